"""What only the PostgreSQL engine has to get right: psycopg stays out of everything else,
driver errors are translated (without passwords), refusals the SQLite engine never sees,
durable sessions, the full-text index."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import psycopg
import pytest

from go_doc_go.exceptions import StorageError, StoreOpenError
from go_doc_go.model import make_doc_id
from go_doc_go.storage.postgresql import Q, PostgreSQLStore
from go_doc_go.storage.rows import encode_document
from tests.helpers.stores import rows

from .conftest import schema_url
from .test_store_contract import result

pytestmark = pytest.mark.postgres


def test_nothing_but_the_postgresql_engine_imports_psycopg(tmp_path):
    """Importing storage, opening a SQLite store and a whole SQLite ingest never load psycopg."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\ntext\n")
    script = textwrap.dedent(f"""
        import sys
        import go_doc_go.storage, go_doc_go.storage.sqlite, go_doc_go.storage.migrations
        import go_doc_go.storage.rows, go_doc_go.storage.writer, go_doc_go.storage.queries
        from go_doc_go import ingest_documents
        summary = ingest_documents({{"storage": {{"path": {str(tmp_path / "s.db")!r}}},
            "content_sources": [{{"name": "d", "base_path": {str(tmp_path / "docs")!r}}}],
            "processing": {{"jobs": 1}}}})
        assert summary.processed == 1, summary
        assert "psycopg" not in sys.modules, sorted(m for m in sys.modules if m.startswith("psycopg"))
        import go_doc_go.storage.postgresql
        assert "psycopg" in sys.modules
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("netloc", ["bob:s3cret-pw@127.0.0.1:1", "postgres:s3cret-pw@127.0.0.1:5432"])
def test_open_failures_name_the_database_but_never_the_password(pg_server, netloc):
    uri = f"postgresql://{netloc}/gdg_no_such_database"
    with pytest.raises(StoreOpenError) as caught:
        PostgreSQLStore(uri)
    message = str(caught.value)
    assert "s3cret-pw" not in message
    assert f"cannot open PostgreSQL store postgresql://{netloc.split(':')[0]}:***@" in message
    assert "gdg_no_such_database" in message


def test_a_key_value_conninfo_password_is_not_repeated_either(pg_server):
    with pytest.raises(StoreOpenError) as caught:
        PostgreSQLStore("host=127.0.0.1 port=1 user=bob password=s3cret-pw dbname=x connect_timeout=2")
    assert "s3cret-pw" not in str(caught.value) and "password=***" in str(caught.value)


def test_a_read_only_open_of_a_database_without_a_store_says_so(pg_schema_url):
    with pytest.raises(StoreOpenError, match="no go-doc-go store in .*run go-doc-go ingest first"):
        PostgreSQLStore(pg_schema_url, read_only=True)


def test_a_lost_connection_is_a_storage_error(pg_schema_url, pg_conn):
    store = PostgreSQLStore(pg_schema_url)
    store.store_documents([result("a.md", "x")])
    pg_conn.execute("SELECT pg_terminate_backend(%s)", (store.conn.info.backend_pid,))
    with pytest.raises(StorageError, match="cannot write to the PostgreSQL store"):
        store.store_documents([result("b.md", "y")])
    assert [d.path for d in store.find_document("a.md")] == ["a.md"], "the next call has a new session"
    store.close()
    assert PostgreSQLStore(pg_schema_url).counts() == (1, 3, 1), "what was committed stayed"


def test_nul_that_bypasses_the_encoder_is_refused_for_that_document_only(pg_schema_url):
    store = PostgreSQLStore(pg_schema_url)
    bad = encode_document(result("bad.md", "x"))
    bad.elements[2] = (*bad.elements[2][:7], "a\x00b", *bad.elements[2][8:])
    bad_json = encode_document(result("bad-json.md", "x"))
    bad_json.elements[1] = (*bad_json.elements[1][:11], '{"v":"\\u0000"}')  # jsonb cannot hold \u0000
    with store.transaction() as tx:
        failures = store.write_documents(
            tx, [encode_document(result("a.md", "x")), bad, bad_json, encode_document(result("b.md", "y"))],
            pass_token="p")
    assert [(f.doc_id, f.cause.split(":")[0]) for f in failures] == [
        (bad.doc_id, "DataError"), (bad_json.doc_id, "DataError")]
    assert "NUL" in failures[0].cause and "\\u0000" in failures[1].cause
    assert sorted(p for (p,) in rows(store, "SELECT path FROM documents")) == ["a.md", "b.md"]
    store.close()


def test_sessions_commit_durably_whatever_the_uri_asks(pg_schema_url):
    relaxed = pg_schema_url + "%20-csynchronous_commit%3Doff"  # appended to the options of the URI
    store = PostgreSQLStore(relaxed)
    assert store.conn.execute("SHOW synchronous_commit").fetchone() == ("on",)
    assert store.conn.execute("SHOW search_path").fetchone()[0].startswith("store_"), "the URI's options are kept"
    store.close()


def test_full_text_search_is_indexed_and_never_refuses_a_long_element(pg_schema_url):
    store = PostgreSQLStore(pg_schema_url)
    # 150,000 distinct words: a tsvector of the whole text would pass PostgreSQL's 1 MB limit.
    huge = " ".join(f"w{i:x}q" for i in range(150_000))
    assert store.store_documents([result("a.md", "harmonic tide", huge + " lastword")]) == []
    search = "SELECT count(*) FROM elements WHERE text_search @@ to_tsquery('simple', %s)"
    assert store.conn.execute(search, ("harmonic",)).fetchone() == (1,)
    assert store.conn.execute(search, ("w10q",)).fetchone() == (1,), "the start of a long element is indexed"
    assert store.conn.execute("SELECT length(text) FROM elements ORDER BY length(text) DESC LIMIT 1").fetchone() == (
        len(huge) + len(" lastword"),), "and its text is stored whole"
    with store.conn.transaction():
        store.conn.execute("SET LOCAL enable_seqscan = off")
        plan = " ".join(r[0] for r in store.conn.execute("EXPLAIN " + search, ("tide",)))
    assert "elements_text_search" in plan
    store.close()


def test_link_resolution_reads_only_what_changed(pg_schema_url):
    """Resolution is keyed by the pending documents' ids, so the planner can use the link indexes."""
    store = PostgreSQLStore(pg_schema_url)
    documents = []
    for i in range(3000):
        doc = result(f"d{i}.md", "x")
        doc.relationships[0].target_doc_id = make_doc_id("s", f"d{(i + 1) % 3000}.md")
        documents.append(doc)
    store.store_documents(documents)
    with store.transaction() as tx:
        store.resolve_pending_links(tx)
    store.conn.execute("ANALYZE")
    store.store_documents([result("d7.md", "changed")])
    pending = [r[0] for r in store.conn.execute("SELECT doc_id FROM pending_links")]
    plan = " ".join(r[0] for r in store.conn.execute("EXPLAIN " + Q["links_resolve"], (pending, pending)))
    assert "stored_relationships_target_doc" in plan and "stored_relationships_doc" in plan, plan
    assert "element_anchors_key" in plan, plan
    with store.transaction() as tx:
        assert store.resolve_pending_links(tx) == 2, "d7's own link and d6's link into it"
    assert store.conn.execute("SELECT count(*) FROM pending_links").fetchone() == (0,)
    store.close()


def test_schema_url_helper_keeps_other_parameters(pg_url):
    url = schema_url(pg_url + "?application_name=x", "s")
    assert psycopg.conninfo.conninfo_to_dict(url)["options"] == "-csearch_path=s"


def test_statements_are_never_prepared(pg_schema_url):
    """A generic plan made while a new store's tables are tiny would scan them whole once they are large."""
    store = PostgreSQLStore(pg_schema_url)
    for i in range(8):
        store.store_documents([result(f"a{i}.md", "x"), result(f"b{i}.md", "y")])
        store.document_states([make_doc_id("s", f"a{i}.md")])
    assert store.conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone() == (0,)
    store.close()


def test_a_store_that_cannot_record_its_setting_fails_to_open_cleanly(pg_schema_url):
    PostgreSQLStore(pg_schema_url, structural=True).close()
    read_only_session = pg_schema_url + "%20-cdefault_transaction_read_only%3Don"
    with pytest.raises(StoreOpenError, match="cannot open PostgreSQL store .*read-only transaction"):
        PostgreSQLStore(read_only_session, structural=False)
    PostgreSQLStore(read_only_session, structural=True).close()  # nothing to write: opens


def test_an_abandoned_stream_closes_its_cursor(pg_schema_url):
    store = PostgreSQLStore(pg_schema_url)
    store.store_documents([result("a.md", *(f"p{i}" for i in range(1200)))])
    stream = store.elements_of(make_doc_id("s", "a.md"))
    next(stream)
    assert store.conn.execute("SELECT count(*) FROM pg_cursors").fetchone() == (1,)
    stream.close()
    assert store.conn.execute("SELECT count(*) FROM pg_cursors").fetchone() == (0,)
    store.close()


def test_a_store_whose_session_was_terminated_reconnects_on_next_use(pg_schema_url):
    import psycopg

    from go_doc_go.exceptions import StorageError
    from go_doc_go.storage.postgresql import PostgreSQLStore

    store = PostgreSQLStore(pg_schema_url)
    pid = store.conn.info.backend_pid
    with psycopg.connect(pg_schema_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(StorageError):
        store.document_states(["x"])  # the statement that finds it broken fails...
    assert store.document_states(["x"]) == {}  # ...the next one runs on a new session
    assert store.conn.info.backend_pid != pid
    with store.transaction() as tx:
        tx.execute("SELECT 1")
    store.close()
