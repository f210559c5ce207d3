"""Unit tests of modules that talk to PostgreSQL use the real server, through the integration fixtures."""

from tests.integration.conftest import pg_pool, pg_server, pg_template, pg_url  # noqa: F401
