"""Configuration: YAML in, validated typed settings out.

Every key has a default, so ``go-doc-go ingest PATH`` needs no file at all.
Errors name the dotted key and say what is wrong. ``run_id`` hashes only the
processing-relevant sections, never worker-local settings, and the snapshot it
hashes has secrets removed so it can be stored and logged.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from go_doc_go.exceptions import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class StorageConfig(_Section):
    backend: Literal["sqlite", "postgresql"] = "sqlite"
    path: str = "./go_doc_go.db"
    uri: str | None = None


class ContentSourceConfig(_Section):
    name: str = Field(min_length=1)
    type: Literal["file"] = "file"
    base_path: str
    include: list[str] = Field(default_factory=lambda: ["**/*"])
    exclude: list[str] = Field(default_factory=list)
    max_link_depth: int = Field(default=1, ge=0)
    max_file_size: int = Field(default=50 * 1024 * 1024, gt=0)


class CrossDocumentSemanticConfig(_Section):
    """Semantic edges (``semantic_similarity``) between retrieval units; needs ``embedding.enabled``.

    Each container element (a section, a table, a whole short document) gets
    edges to its ``k`` most similar elements of other documents whose cosine
    similarity is at least ``similarity_threshold``; ``within_document`` adds
    the ``k`` most similar elements of its own document as well. Cosine scales
    differ between models (a static model's are high), so the default threshold
    is the model's (``DEFAULT_SIMILARITY_THRESHOLDS``).
    """

    enabled: bool = True
    #: None: the embedding provider's default (``similarity_threshold_of``).
    similarity_threshold: float | None = Field(default=None, ge=-1.0, le=1.0)
    k: int = Field(default=5, gt=0, le=100)
    within_document: bool = False


class RelationshipDetectionConfig(_Section):
    structural: bool = True
    links: bool = True
    cross_document_semantic: CrossDocumentSemanticConfig = Field(default_factory=CrossDocumentSemanticConfig)


class MarkdownConfig(_Section):
    #: MkDocs / Python-Markdown admonitions (``!!!``, ``???``) and pymdownx tabs (``===``)
    #: become containers; off means strict CommonMark (they read as indented code).
    admonitions: bool = True


class ParsersConfig(_Section):
    """Per-document limits: a hostile file costs one document, never a worker.

    ``max_depth`` is not a failure: content nested deeper is kept, flattened
    into the deepest level kept. The other limits fail the document with a
    cause that names the key, the limit and the value met.
    """

    max_depth: int = Field(default=100, gt=0)
    max_elements: int = Field(default=500_000, gt=0)
    max_cells: int = Field(default=2_000_000, gt=0)
    max_links: int = Field(default=50_000, gt=0)
    timeout: float = Field(default=60.0, gt=0)
    #: Address-space limit of each parser process, in MiB (0: none).
    max_memory_mb: int = Field(default=2048, ge=0)
    #: A parser process is replaced after this many documents (bounds slow native leaks).
    recycle_after: int = Field(default=1000, gt=0)
    markdown: MarkdownConfig = Field(default_factory=MarkdownConfig)


#: What ``embedding: {enabled: true}`` uses when no provider is named: the static model, the only
#: one fast enough for ingest at 100+ documents a second on 2 cores (docs/embeddings.md).
DEFAULT_EMBEDDING_PROVIDER = "model2vec"
#: Each provider's default model (the provider modules use these).
DEFAULT_EMBEDDING_MODELS = {
    "onnx": "all-MiniLM-L6-v2-int8",
    "model2vec": "minilm-distilled",
    "sentence-transformers": "all-MiniLM-L6-v2",
    "openai": "text-embedding-3-small",
}
#: Models whose vectors change with a recipe of ours: the revision is part of the stored model name.
EMBEDDING_MODEL_REVISIONS = {("model2vec", "minilm-distilled"): "m2v-mean-pca256-sif1e-4-v1"}


#: Semantic-edge thresholds by provider, chosen on the retrieval corpus (docs/embeddings.md): the
#: static model's cosines run high (unrelated sections score 0.8-0.9), MiniLM's are spread out.
DEFAULT_SIMILARITY_THRESHOLDS = {"model2vec": 0.93}
DEFAULT_SIMILARITY_THRESHOLD = 0.75


def similarity_threshold_of(config: Config) -> float:
    """``cross_document_semantic.similarity_threshold``, or the provider's default when it is not set."""
    configured = config.relationship_detection.cross_document_semantic.similarity_threshold
    if configured is not None:
        return configured
    provider = config.embedding.provider or DEFAULT_EMBEDDING_PROVIDER
    return DEFAULT_SIMILARITY_THRESHOLDS.get(provider, DEFAULT_SIMILARITY_THRESHOLD)


def vector_model(embedding: EmbeddingConfig) -> str:
    """The name stored with every vector: provider, model (and its revision), and options that change vectors.

    Vectors of different names are never compared, and a stored document whose
    vectors have another name than the configured one is embedded again.
    Computed from the config alone (no model is loaded).
    """
    provider = embedding.provider or DEFAULT_EMBEDDING_PROVIDER
    model = embedding.model or DEFAULT_EMBEDDING_MODELS[provider]
    revision = EMBEDDING_MODEL_REVISIONS.get((provider, model))
    key = f"{provider}/{model}" + (f"@{revision}" if revision else "")
    if embedding.dimensions:
        key += f";dimensions={embedding.dimensions}"
    if embedding.window_chars:
        key += f";window={embedding.window_chars}"
    return key


class EmbeddingConfig(_Section):
    """Which model embeds retrieval units (see docs/embeddings.md).

    ``enabled: true`` alone selects the offline default provider and model. The
    HTTP provider reads its base URL and key from the environment variables
    named here, so neither is ever part of the config snapshot.
    """

    enabled: bool = False
    #: None: the offline default (``go_doc_go.embeddings.DEFAULT_PROVIDER``).
    provider: Literal["onnx", "sentence-transformers", "model2vec", "openai"] | None = None
    #: None: the provider's default model.
    model: str | None = None
    batch_size: int = Field(default=64, gt=0)
    #: Checked against the model's output size (an HTTP model may be asked for fewer).
    dimensions: int | None = Field(default=None, gt=0)
    #: Input window in characters (None: the model's own window, about 4 characters a token).
    window_chars: int | None = Field(default=None, gt=0)
    #: HTTP provider: names of the environment variables holding the base URL and the key.
    base_url_env: str = "GO_DOC_GO_EMBEDDING_BASE_URL"
    api_key_env: str = "GO_DOC_GO_EMBEDDING_API_KEY"
    #: HTTP provider: seconds per request, and retries on 429 / 5xx / connection errors.
    timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=5, ge=0)
    #: Where derived model files (the distilled static model) are cached; None: ``$GO_DOC_GO_CACHE``,
    #: else ``$XDG_CACHE_HOME/go-doc-go``, else ``~/.cache/go-doc-go``. Machine-local: not part of the run id.
    cache_dir: str | None = None


class ProcessingConfig(_Section):
    mode: Literal["single", "distributed"] = "single"
    jobs: int = Field(default=0, ge=0)


class WorkQueueConfig(_Section):
    """Seconds throughout. Defaults are the ones users of the original plan expect."""

    #: The PostgreSQL database of the work queue; default: the store's (``storage.uri``). With
    #: the store in the same database a document's rows and its completion commit together;
    #: in a separate one the store write is an idempotent replace committed first.
    uri: str | None = None
    claim_timeout: float = Field(default=300, gt=0)
    heartbeat_interval: float = Field(default=30, gt=0)
    max_retries: int = Field(default=3, ge=0)
    stale_threshold: float = Field(default=600, gt=0)
    batch_size: int = Field(default=32, gt=0)
    poll_interval: float = Field(default=5.0, gt=0)
    retry_backoff_base: float = Field(default=2.0, gt=0)
    retry_backoff_max: float = Field(default=300.0, gt=0)
    leader_ttl: float = Field(default=60.0, gt=0)
    ack_flush_interval: float = Field(default=0.05, ge=0)
    #: Time budget of one attempt (database clock); None = unlimited. Separate from liveness:
    #: the heartbeat never extends a lease past it, and the expiry is recorded as a timeout.
    attempt_timeout: float | None = Field(default=None, gt=0)
    #: How long ``Acknowledger.close()`` keeps trying to write buffered completions.
    ack_close_timeout: float = Field(default=30.0, ge=0)
    #: Discovery lease length (renewed at half).
    discovery_ttl: float = Field(default=60.0, gt=0)

    @field_validator("heartbeat_interval")
    @classmethod
    def _heartbeat_below_timeout(cls, value: float, info: Any) -> float:
        timeout = info.data.get("claim_timeout")
        if timeout is not None and value >= timeout:
            raise ValueError(f"must be smaller than claim_timeout ({timeout})")
        return value


class AlertsConfig(_Section):
    """Alert thresholds of ``go-doc-go monitor`` (seconds, counts, ratios); ``null`` turns a level off.

    Rates and growth are measured over ``window`` seconds (rounded down to the minute).
    """

    window: float = Field(default=300.0, gt=0)
    #: A running worker silent this long is stale; null: 3 x work_queue.heartbeat_interval.
    worker_silent: float | None = Field(default=None, gt=0)
    #: Failed attempts (failures and crashes) / all attempts ended in the window.
    failure_rate: float | None = Field(default=0.10, gt=0, le=1)
    failure_rate_critical: float | None = Field(default=0.50, gt=0, le=1)
    #: Fewer attempts than this in the window never raise the failure-rate alert.
    failure_rate_min_attempts: int = Field(default=20, ge=1)
    #: New dead letters in the window.
    dead_letter_growth: int | None = Field(default=1, ge=1)
    dead_letter_growth_critical: int | None = Field(default=None, ge=1)
    #: Seconds the longest-waiting claimable document has waited.
    oldest_pending: float | None = Field(default=3600.0, gt=0)
    oldest_pending_critical: float | None = Field(default=None, gt=0)
    #: Leases expired for longer than expired_lease_grace and not reclaimed (nobody claims).
    expired_leases: int | None = Field(default=1, ge=1)
    expired_lease_grace: float = Field(default=60.0, ge=0)


class MonitoringConfig(_Section):
    """``go-doc-go monitor`` and ``deadletter``: worker-local, never part of the run id."""

    #: Seconds between two refreshes of the live dashboard.
    refresh_interval: float = Field(default=2.0, gt=0)
    #: Minutes of per-minute throughput history kept (the sparkline, rates, growth).
    history_minutes: int = Field(default=60, ge=1, le=10_080)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)

    @model_validator(mode="after")
    def _window_inside_history(self) -> MonitoringConfig:
        if self.alerts.window > self.history_minutes * 60:
            raise ValueError(
                f"alerts.window ({self.alerts.window:g} s) must not exceed history_minutes ({self.history_minutes} min)"
            )
        return self


class LoggingConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Config(_Section):
    storage: StorageConfig = Field(default_factory=StorageConfig)
    content_sources: list[ContentSourceConfig] = Field(default_factory=list)
    relationship_detection: RelationshipDetectionConfig = Field(
        default_factory=RelationshipDetectionConfig
    )
    parsers: ParsersConfig = Field(default_factory=ParsersConfig)
    embedding: EmbeddingConfig = Field(default_factory=EmbeddingConfig)
    processing: ProcessingConfig = Field(default_factory=ProcessingConfig)
    work_queue: WorkQueueConfig = Field(default_factory=WorkQueueConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)

    @field_validator("content_sources")
    @classmethod
    def _unique_source_names(cls, sources: list[ContentSourceConfig]) -> list[ContentSourceConfig]:
        names = [s.name for s in sources]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"source names must be unique; repeated: {', '.join(duplicates)}")
        return sources


# ---------------------------------------------------------------- loading

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")


def interpolate(value: Any, *, key: str = "") -> Any:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in every string of a YAML tree."""
    if isinstance(value, dict):
        return {k: interpolate(v, key=f"{key}.{k}" if key else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, key=f"{key}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = os.environ.get(name)
        if found is not None and (found != "" or default is None):
            return found
        if default is not None:
            return default
        raise ConfigError(f"{key}: environment variable {name} is not set (use ${{{name}:-default}})")

    return _VAR.sub(substitute, value)


def _format_validation_error(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        location = ""
        for part in item["loc"]:
            location += f"[{part}]" if isinstance(part, int) else (f".{part}" if location else str(part))
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        lines.append(f"{location or '(top level)'}: {message}")
    return "invalid config:\n  " + "\n  ".join(lines)


def config_from_dict(data: dict[str, Any] | None) -> Config:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("invalid config: the top level must be a mapping of sections")
    try:
        return Config.model_validate(interpolate(data))
    except ValidationError as error:
        raise ConfigError(_format_validation_error(error)) from None


def load_config(path: str | os.PathLike[str]) -> Config:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read config file {file}: {error.strerror or error}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"config file {file} is not valid YAML{where}") from None
    config = config_from_dict(data)
    # Relative paths in a config file are relative to the file, not the shell.
    base = file.resolve().parent
    for source in config.content_sources:
        if not Path(source.base_path).is_absolute():
            source.base_path = str(base / source.base_path)
    if not Path(config.storage.path).is_absolute():
        config.storage.path = str(base / config.storage.path)
    if config.embedding.cache_dir and not Path(config.embedding.cache_dir).expanduser().is_absolute():
        config.embedding.cache_dir = str(base / config.embedding.cache_dir)
    return config


def as_config(value: Config | dict[str, Any] | str | os.PathLike[str]) -> Config:
    """Accept what a library user is likely to have: a Config, a dict or a YAML path."""
    if isinstance(value, Config):
        return value
    if isinstance(value, dict):
        return config_from_dict(value)
    return load_config(value)


# ---------------------------------------------------------------- secrets and run id

#: Words that make a name (config key, URL query parameter, libpq keyword) a secret's name.
_SECRET_WORDS = (
    "password", "passwd", "passphrase", "secret", "token", "apikey", "privatekey", "accesskey",
    "credential", "signature", "authorization",
)
#: Short names that are secrets only on their own (``sig`` of a SAS URL, ``key`` of an API URL).
_SECRET_EXACT = frozenset({"pwd", "pass", "sig", "key", "auth"})
#: URL schemes whose user name is kept (it names a database role, not a credential).
_DATABASE_SCHEMES = frozenset({"postgres", "postgresql", "mysql", "mariadb", "mongodb", "redis", "amqp"})

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>`]+")
_QUERY_PAIR = re.compile(r"(^|[&;])([^=&;]*)=([^&;]*)")
#: ``name = value`` (libpq key=value DSNs, log lines), the value bare or quoted.
_NAME_EQUALS = re.compile(r"(?<![\w.\-])([A-Za-z_][\w.\-]*)(\s*=\s*)('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s&;,'\")]+)")
#: ``"name": value`` (JSON); only with a quoted name, so "unexpected token: x" stays readable.
_QUOTED_COLON = re.compile(r"([\"'])([\w.\-]+)\1(\s*:\s*)(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[^\s,}]+)")
_BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/\-]{8,}=*")
#: Text without any of these holds nothing ``scrub`` would mask (userinfo needs ``@``, pairs ``=`` or ``":``).
_HINT = re.compile(r"[@=]|[\"']\s*:|(?i:bearer|basic)\s")


def is_secret_name(name: str) -> bool:
    """Does this key or parameter name hold a secret? (``sslpassword``, ``api_key``, ``X-Amz-Signature``...)"""
    flat = re.sub(r"[^a-z0-9]", "", name.lower())
    return flat in _SECRET_EXACT or any(word in flat for word in _SECRET_WORDS)


def _redact_query(query: str) -> str:
    def mask(match: re.Match[str]) -> str:
        sep, name, value = match.groups()
        return f"{sep}{name}=***" if value and is_secret_name(unquote_plus(name)) else match.group(0)

    return _QUERY_PAIR.sub(mask, query)


def _redact_url(url: str) -> str:
    """Mask a URL's password (or its whole userinfo, except a database user name) and secret parameters."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, has_password, _ = userinfo.partition(":")
        if has_password:
            netloc = f"{user}:***@{hostport}" if user else f"***@{hostport}"
        elif parts.scheme.lower() not in _DATABASE_SCHEMES:
            netloc = f"***@{hostport}"  # a bare user name in a web URL is usually a token
    fragment = _redact_query(parts.fragment) if "=" in parts.fragment else parts.fragment
    return urlunsplit(parts._replace(netloc=netloc, query=_redact_query(parts.query), fragment=fragment))


def _redact_pairs(text: str) -> str:
    """Mask ``name=value`` and ``"name": value`` pairs with a secret name, and bearer/basic credentials."""

    def equals(match: re.Match[str]) -> str:
        name, sep, _ = match.groups()
        return f"{name}{sep}***" if is_secret_name(name) else match.group(0)

    def colon(match: re.Match[str]) -> str:
        quote, name, sep, _ = match.groups()
        return f"{quote}{name}{quote}{sep}\"***\"" if is_secret_name(name) else match.group(0)

    text = _NAME_EQUALS.sub(equals, text)
    text = _QUOTED_COLON.sub(colon, text)
    return _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


def scrub(text: str) -> str:
    """``text`` with every credential masked: URLs (userinfo, secret parameters), libpq ``key=value``
    passwords, ``name=secret`` pairs, JSON ``"password": ...`` and bearer tokens.

    Used for everything stored or printed that may carry one: the run snapshot,
    queue error texts and document paths, log lines and CLI errors. Idempotent.
    """
    if not text or not _HINT.search(text):
        return text  # the common case (plain paths, messages): one cheap search
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        out.append(_redact_pairs(text[last : match.start()]))
        out.append(_redact_url(match.group(0)))
        last = match.end()
    out.append(_redact_pairs(text[last:]))
    return "".join(out)


def redact_uri(uri: str) -> str:
    """A database URI (URL or libpq ``key=value`` form) with its secrets masked; user, host and database kept."""
    return scrub(uri)


def redact(value: Any, *, key: str = "") -> Any:
    """A config structure with secret-named values replaced by ``***`` and every string scrubbed."""
    if isinstance(value, dict):
        return {k: redact(v, key=str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key=key) for v in value]
    if isinstance(value, str):
        if value and is_secret_name(key):
            return "***"
        return scrub(value)
    return value


def run_snapshot(config: Config) -> dict[str, Any]:
    """The processing-relevant part of the config, secrets removed.

    This is what identifies a run: workers with the same snapshot join the same
    run. Worker-local settings (jobs, log level, queue timings, monitoring) are left out.
    """
    storage = config.storage
    target = (
        {"backend": "sqlite", "path": storage.path}
        if storage.backend == "sqlite"
        else {"backend": "postgresql", "uri": storage.uri}
    )
    snapshot = {
        "content_sources": [s.model_dump() for s in config.content_sources],
        "storage": target,
        "parsers": config.parsers.model_dump(),
        "relationship_detection": config.relationship_detection.model_dump(),
        "embedding": config.embedding.model_dump(exclude={"cache_dir"}),
    }
    return redact(snapshot)


def config_hash(config: Config) -> str:
    canonical = json.dumps(run_snapshot(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def run_id(config: Config) -> str:
    """First 16 hex characters of the config hash."""
    return config_hash(config)[:16]


def effective_jobs(config: Config) -> int:
    return config.processing.jobs or os.cpu_count() or 1
