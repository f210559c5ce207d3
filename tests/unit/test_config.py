import pytest

from go_doc_go.config import (
    config_from_dict,
    config_hash,
    load_config,
    redact,
    redact_uri,
    run_id,
    run_snapshot,
)
from go_doc_go import config as config_module
from go_doc_go.exceptions import ConfigError


def test_defaults_need_no_file():
    config = config_from_dict(None)
    assert config.storage.backend == "sqlite"
    assert config.storage.path == "./go_doc_go.db"
    assert config.processing.mode == "single"
    assert config.processing.jobs == 0
    assert config.work_queue.claim_timeout == 300
    assert config.work_queue.heartbeat_interval == 30


def test_unknown_key_is_named():
    with pytest.raises(ConfigError) as error:
        config_from_dict({"storage": {"backend": "sqlite", "pth": "x.db"}})
    assert "storage.pth: unknown key" in str(error.value)


def test_bad_value_names_indexed_key():
    with pytest.raises(ConfigError) as error:
        config_from_dict({"content_sources": [{"name": "a", "base_path": ".", "max_link_depth": -1}]})
    assert "content_sources[0].max_link_depth" in str(error.value)


def test_bad_backend_and_missing_base_path():
    with pytest.raises(ConfigError) as error:
        config_from_dict({"storage": {"backend": "mongo"}, "content_sources": [{"name": "a"}]})
    message = str(error.value)
    assert "storage.backend" in message
    assert "content_sources[0].base_path: Field required" in message


def test_heartbeat_must_be_below_claim_timeout():
    with pytest.raises(ConfigError, match="work_queue.heartbeat_interval: must be smaller"):
        config_from_dict({"work_queue": {"claim_timeout": 10, "heartbeat_interval": 20}})


def test_duplicate_source_names_rejected():
    with pytest.raises(ConfigError, match="repeated: a"):
        config_from_dict({"content_sources": [{"name": "a", "base_path": "x"}, {"name": "a", "base_path": "y"}]})


def test_interpolation(monkeypatch):
    monkeypatch.setenv("GDG_DB", "/data/store.db")
    monkeypatch.delenv("GDG_MISSING", raising=False)
    config = config_from_dict(
        {
            "storage": {"path": "${GDG_DB}"},
            "content_sources": [{"name": "${GDG_MISSING:-docs}", "base_path": "/srv/${GDG_MISSING:-x}"}],
        }
    )
    assert config.storage.path == "/data/store.db"
    assert config.content_sources[0].name == "docs"
    assert config.content_sources[0].base_path == "/srv/x"


def test_missing_variable_names_key(monkeypatch):
    monkeypatch.delenv("GDG_NOPE", raising=False)
    with pytest.raises(ConfigError, match=r"storage.uri: environment variable GDG_NOPE is not set"):
        config_from_dict({"storage": {"uri": "${GDG_NOPE}"}})


def test_yaml_errors_are_clean(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("storage:\n  backend: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        load_config(bad)
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "missing.yaml")
    top = tmp_path / "list.yaml"
    top.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(top)


def test_relative_paths_follow_the_config_file(tmp_path):
    file = tmp_path / "conf" / "config.yaml"
    file.parent.mkdir()
    file.write_text("storage:\n  path: store.db\ncontent_sources:\n  - name: d\n    base_path: ../docs\n")
    config = load_config(file)
    assert config.storage.path == str(tmp_path / "conf" / "store.db")
    assert config.content_sources[0].base_path == str(tmp_path / "conf" / ".." / "docs")


BASE = {
    "storage": {"backend": "postgresql", "uri": "postgresql://worker:s3cret@db.internal:5432/docs"},
    "content_sources": [{"name": "docs", "base_path": "/srv/docs"}],
}


def test_run_id_shape_and_stability():
    a = config_from_dict(BASE)
    assert len(run_id(a)) == 16
    assert run_id(a) == config_hash(a)[:16]
    assert run_id(a) == run_id(config_from_dict(BASE))


def test_worker_local_settings_do_not_change_run_id():
    local = dict(BASE, processing={"jobs": 7}, logging={"level": "DEBUG"}, work_queue={"claim_timeout": 60})
    assert run_id(config_from_dict(local)) == run_id(config_from_dict(BASE))


def test_processing_relevant_settings_change_run_id():
    other_source = dict(BASE, content_sources=[{"name": "docs", "base_path": "/srv/other"}])
    other_parsers = dict(BASE, parsers={"max_depth": 10})
    no_links = dict(BASE, relationship_detection={"links": False})
    ids = {run_id(config_from_dict(c)) for c in (BASE, other_source, other_parsers, no_links)}
    assert len(ids) == 4


def test_secrets_never_reach_the_snapshot():
    snapshot = run_snapshot(config_from_dict(BASE))
    assert "s3cret" not in str(snapshot)
    assert snapshot["storage"]["uri"] == "postgresql://worker:***@db.internal:5432/docs"


def test_redact_uri_variants():
    assert redact_uri("postgresql://u@h/db") == "postgresql://u@h/db"
    assert "pw" not in redact_uri("postgresql://h/db?user=u&password=pw")
    assert redact_uri("postgresql://u:pw@h:5433/db") == "postgresql://u:***@h:5433/db"
    assert redact_uri("postgresql://u:pw@h:notaport/db") == "postgresql://u:***@h:notaport/db"
    assert redact_uri("host=h password=pw dbname=db") == "host=h password=*** dbname=db"
    assert redact_uri("host=h password = 'p w' dbname=db") == "host=h password = *** dbname=db"


# ---------------------------------------------------------------- secrets (one test per row of the table)

KEY_VALUE = {
    "storage": {"backend": "postgresql", "uri": "host=db.internal port=5432 user=worker password=s3cret dbname=docs"},
    "content_sources": [{"name": "docs", "base_path": "/srv/docs"}],
}


def with_uri(uri):
    return dict(KEY_VALUE, storage={"backend": "postgresql", "uri": uri})


def test_key_value_dsn_password_never_reaches_the_snapshot():
    snapshot = run_snapshot(config_from_dict(KEY_VALUE))
    assert "s3cret" not in str(snapshot)
    assert snapshot["storage"]["uri"] == "host=db.internal port=5432 user=worker password=*** dbname=docs"


@pytest.mark.parametrize(
    "old, new",
    [
        ("host=db user=w password=one dbname=d", "host=db user=w password=two dbname=d"),
        ("host=db user=w password='one two' dbname=d", "host=db user=w password='three' dbname=d"),
        ("postgresql://w:one@db/d", "postgresql://w:two@db/d"),
        ("postgresql://w@db/d?password=one", "postgresql://w@db/d?password=two"),
        ("postgresql://w@db/d?sslmode=verify-full&sslpassword=one", "postgresql://w@db/d?sslmode=verify-full&sslpassword=two"),
    ],
)
def test_rotating_a_password_keeps_the_run_id(old, new):
    assert run_id(config_from_dict(with_uri(old))) == run_id(config_from_dict(with_uri(new)))


@pytest.mark.parametrize(
    "uri, kept, secret",
    [
        ("postgresql://u@h/db?sslpassword=pp1&sslmode=require", "sslmode=require", "pp1"),
        ("https://api.example/v1/x?api_key=K123&page=2", "page=2", "K123"),
        ("https://h/x?password=pw1", "https://h/x?password=***", "pw1"),
        ("https://h/x?token=t0k&access_token=t1k", "https://h/x?token=***&access_token=***", "t0k"),
        ("https://h/x?client_secret=c5", "client_secret=***", "c5"),
        ("https://acct.blob.core.windows.net/c/x.pdf?sv=2020&sig=SAS99", "sv=2020", "SAS99"),
        ("https://b.s3.amazonaws.com/x?X-Amz-Signature=abc9&X-Amz-Credential=AKIA", "X-Amz-Signature=***", "abc9"),
        ("https://maps.example/api?key=GKEY&q=1", "q=1", "GKEY"),
        ("https://h/cb#access_token=frag1&state=s", "state=s", "frag1"),
    ],
)
def test_secret_named_query_parameters_are_redacted(uri, kept, secret):
    assert secret not in redact_uri(uri) and kept in redact_uri(uri)


def test_harmless_parameters_and_paths_stay():
    uri = "postgresql://u@h/db?sslmode=require&sslkey=/etc/k.pem&sslcert=/etc/c.pem&passfile=/p"
    assert redact_uri(uri) == uri
    assert config_module.scrub("unexpected token: ')' at line 3") == "unexpected token: ')' at line 3"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("GET https://bot:ghp_SECRET@host/x.pdf failed: 404", "GET https://bot:***@host/x.pdf failed: 404"),
        ("clone https://ghp_TOKEN@github.com/o/r.git", "clone https://***@github.com/o/r.git"),
        ("ftp://anon:pw@files.example/a", "ftp://anon:***@files.example/a"),
        ("postgresql://role@db/x", "postgresql://role@db/x"),  # a database role name is not a credential
        ("redis://:pw@cache:6379/0", "redis://***@cache:6379/0"),
    ],
)
def test_userinfo_in_any_url_is_redacted(text, expected):
    assert config_module.scrub(text) == expected


@pytest.mark.parametrize(
    "text, secret",
    [
        ("connect failed for host=db password=hunter2 sslpassword=p2 user=x", "hunter2"),
        ("connect failed for host=db password=hunter2 sslpassword=p2 user=x", "p2"),
        ('request body {"password": "pw-json", "user": "x"}', "pw-json"),
        ("header Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9"),
        ("fetch https://u:pw9@h/x then password=pw8", "pw9"),
        ("fetch https://u:pw9@h/x then password=pw8", "pw8"),
    ],
)
def test_free_text_is_scrubbed(text, secret):
    assert secret not in config_module.scrub(text)


def test_scrub_is_idempotent_and_keeps_context():
    text = "GET https://bot:ghp_SECRET@host/x.pdf?token=abc (host=db password=x)"
    once = config_module.scrub(text)
    assert config_module.scrub(once) == once
    assert "host/x.pdf" in once and "host=db" in once


def test_secret_named_config_values_are_masked_whatever_they_hold():
    assert redact({"api_key": "plain", "nested": {"client_secret": "x", "name": "keep"}}) == {
        "api_key": "***", "nested": {"client_secret": "***", "name": "keep"}
    }
    assert config_module.is_secret_name("sslpassword") and config_module.is_secret_name("X-Amz-Signature") and not config_module.is_secret_name("sslkey")
