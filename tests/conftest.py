"""Shared database fixtures: catalogue tests run on SQLite and PostgreSQL.

The PostgreSQL server comes from ``EXTRA_CATALOG_TEST_PG_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``). One throwaway
database with a random name is created per test session and dropped at the
end; each test gets its own schema in it. When the server does not answer,
PostgreSQL tests are skipped, except with ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from urllib.parse import quote

import pytest

PG_URL_ENV = "EXTRA_CATALOG_TEST_PG_URL"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _pg_server_url() -> str:
    return os.environ.get(PG_URL_ENV) or DEFAULT_PG_URL


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """URL of a fresh PostgreSQL database for this test session."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    server = make_url(_pg_server_url())
    admin = create_engine(server, isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 3})
    name = f"extra_catalog_test_{secrets.token_hex(6)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL server at {server.render_as_string()} does not answer: {exc.orig}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: the PostgreSQL tests must run)")
        pytest.skip(message)
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _pg_schema_url(database_url: str) -> Iterator[str]:
    """A URL whose search_path is a new schema, dropped afterwards."""
    from sqlalchemy import create_engine, text

    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    options = quote(f"-csearch_path={schema}")
    separator = "&" if "?" in database_url else "?"
    try:
        yield f"{database_url}{separator}options={options}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def empty_catalog_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """URL of an empty database on each backend (no catalogue created)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    else:
        yield from _pg_schema_url(request.getfixturevalue("pg_database"))


@pytest.fixture
def catalog_url(empty_catalog_url: str) -> str:
    """URL of a new catalogue at the newest schema revision, on each backend."""
    from extra_catalog.catalog import init_catalog

    init_catalog(empty_catalog_url)
    return empty_catalog_url


@pytest.fixture
def catalog(catalog_url: str):
    """An open, empty catalogue on each backend."""
    from extra_catalog.catalog import open_catalog

    with open_catalog(catalog_url) as opened:
        yield opened
