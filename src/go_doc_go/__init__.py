"""go-doc-go: turn collections of documents into a structured, searchable knowledge store."""

from go_doc_go.config import Config, config_from_dict, load_config, run_id
from go_doc_go.exceptions import ConfigError, GoDocGoError
from go_doc_go.ingest import IngestSummary, ingest_documents

__all__ = [
    "Config",
    "ConfigError",
    "GoDocGoError",
    "IngestSummary",
    "config_from_dict",
    "ingest_documents",
    "load_config",
    "run_id",
]
