"""Where the operator commands (``monitor``, ``deadletter``) find their config and the queue database.

Users run them exactly as the plan shows, without ``--config``, from the
folder where they started the workers. So the config is, in this order:
``--config FILE``, else ``$GO_DOC_GO_CONFIG``, else ``./config.yaml`` if it
exists (no config at all is fine: defaults). The database is ``--database-url``,
else the config's ``work_queue.uri``, else its ``storage.uri``. With none of
them the command says so in one line and exits 2 (a ``ConfigError``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from go_doc_go.config import Config, config_from_dict, load_config, redact_uri, run_id
from go_doc_go.exceptions import ConfigError

ENV_CONFIG = "GO_DOC_GO_CONFIG"
DEFAULT_CONFIG = "config.yaml"


@dataclass(frozen=True)
class OpsTarget:
    """The resolved database and config of one operator command."""

    url: str
    config: Config
    #: The config file read, or None (defaults).
    config_path: Path | None

    @property
    def shown_url(self) -> str:
        """The database for display: credentials masked."""
        return redact_uri(self.url)

    @property
    def config_run_id(self) -> str | None:
        """The run the config's workers join (None without a config file or without sources)."""
        if self.config_path is None or not self.config.content_sources:
            return None
        return run_id(self.config)


def find_config(config_file: str | None) -> tuple[Config, Path | None]:
    """``--config``, else ``$GO_DOC_GO_CONFIG``, else ``./config.yaml``, else the defaults."""
    if config_file:
        return load_config(config_file), Path(config_file)
    from_env = os.environ.get(ENV_CONFIG)
    if from_env:
        if not Path(from_env).is_file():
            raise ConfigError(f"${ENV_CONFIG} names {from_env}, which is not a file")
        return load_config(from_env), Path(from_env)
    local = Path(DEFAULT_CONFIG)
    if local.is_file():
        return load_config(local), local
    return config_from_dict({}), None


def queue_url(config: Config) -> str | None:
    """The queue database of a config: ``work_queue.uri`` if it has one, else ``storage.uri``."""
    return getattr(config.work_queue, "uri", None) or config.storage.uri


def resolve(config_file: str | None, database_url: str | None) -> OpsTarget:
    """The config and database an operator command works on; ConfigError (exit 2) without a database."""
    config, path = find_config(config_file)
    url = database_url or queue_url(config)
    if not url:
        where = (f"{path} sets neither work_queue.uri nor storage.uri" if path is not None else
                 f"no --config, ${ENV_CONFIG} is not set and there is no ./{DEFAULT_CONFIG}")
        raise ConfigError(f"no queue database: {where}; pass --database-url URL")
    return OpsTarget(url=url, config=config, config_path=path)
