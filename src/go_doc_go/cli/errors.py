"""One clean line instead of a traceback for every error a user can cause (credentials scrubbed)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
import psycopg

from go_doc_go.config import redact_uri, scrub
from go_doc_go.exceptions import ConfigError, GoDocGoError, StoreOpenError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FAILED = 1
EXIT_USAGE = 2


def clean_errors(command: F) -> F:
    """Map our exceptions (and a lost database connection) to a message and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (ConfigError, StoreOpenError) as error:  # the user's to fix: a usage error
            click.echo(f"error: {scrub(str(error))}", err=True)
            sys.exit(EXIT_USAGE)
        except GoDocGoError as error:
            click.echo(f"error: {scrub(str(error))}", err=True)
            sys.exit(EXIT_FAILED)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Turn driver errors into one line naming the database, URL or key=value DSN, without its secrets."""
    try:
        yield
    except psycopg.OperationalError as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[-1]
        raise GoDocGoError(f"cannot connect to {redact_uri(url)}: {scrub(reason)}") from None
    except psycopg.Error as error:
        raise GoDocGoError(scrub(str(error))) from None
