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
from urllib.parse import urlsplit, urlunsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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


class RelationshipDetectionConfig(_Section):
    structural: bool = True
    links: bool = True


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
    markdown: MarkdownConfig = Field(default_factory=MarkdownConfig)


class EmbeddingConfig(_Section):
    enabled: bool = False
    model: str | None = None


class ProcessingConfig(_Section):
    mode: Literal["single", "distributed"] = "single"
    jobs: int = Field(default=0, ge=0)


class WorkQueueConfig(_Section):
    """Seconds throughout. Defaults are the ones users of the original plan expect."""

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

    @field_validator("heartbeat_interval")
    @classmethod
    def _heartbeat_below_timeout(cls, value: float, info: Any) -> float:
        timeout = info.data.get("claim_timeout")
        if timeout is not None and value >= timeout:
            raise ValueError(f"must be smaller than claim_timeout ({timeout})")
        return value


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
    return config


def as_config(value: Config | dict[str, Any] | str | os.PathLike[str]) -> Config:
    """Accept what a library user is likely to have: a Config, a dict or a YAML path."""
    if isinstance(value, Config):
        return value
    if isinstance(value, dict):
        return config_from_dict(value)
    return load_config(value)


# ---------------------------------------------------------------- secrets and run id

_SECRET_KEY = re.compile(r"(password|passwd|secret|token|api_?key|credential)", re.IGNORECASE)


def redact_uri(uri: str) -> str:
    """Drop the password from a URI but keep user, host and database."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "***"
    if not parts.scheme:  # a libpq key=value string: host=h password=pw dbname=db
        return re.sub(r"(?i)\b(password|token|secret)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)", r"\1=***", uri)
    if parts.password is None:
        query = re.sub(r"(?i)(password|token|secret)=[^&]*", r"\1=***", parts.query)
        return urlunsplit(parts._replace(query=query))
    host = parts.netloc.rpartition("@")[2]  # as written: a port that is not a number must not raise
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def redact(value: Any, *, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: redact(v, key=str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key=key) for v in value]
    if isinstance(value, str):
        if _SECRET_KEY.search(key):
            return "***"
        if "://" in value:
            return redact_uri(value)
    return value


def run_snapshot(config: Config) -> dict[str, Any]:
    """The processing-relevant part of the config, secrets removed.

    This is what identifies a run: workers with the same snapshot join the same
    run. Worker-local settings (jobs, log level, queue timings) are left out.
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
        "embedding": config.embedding.model_dump(),
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
