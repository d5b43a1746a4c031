"""Where the catalogue is, how to connect to it, and one transaction helper.

The catalogue URL is, in order of precedence: the URL given by the caller
(``--catalog URL`` on the command line), the ``EXTRA_CATALOG_URL`` environment
variable, or the per-user default SQLite file
``$XDG_DATA_HOME/extra_catalog/catalog.sqlite`` (``XDG_DATA_HOME`` defaults to
``~/.local/share``). A plain file path is accepted wherever a URL is and means
an SQLite file; ``postgresql://`` URLs without a driver use psycopg 3.

SQLite connections run in WAL mode, so readers are never blocked by a writer
(the crawler), with a busy timeout so that concurrent writers wait for each
other instead of failing at once, and with foreign keys enforced.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ..exceptions import (
    CatalogConnectionError,
    CatalogError,
    CatalogLockedError,
    NotACatalogError,
)
from .location import ENV_URL, default_catalog_path

__all__ = [
    "ENV_URL",
    "BUSY_TIMEOUT",
    "default_catalog_path",
    "resolve_url",
    "display_url",
    "sqlite_file",
    "create_catalog_engine",
    "translate_db_error",
    "Catalog",
]

#: Seconds an SQLite writer waits for another writer before giving up.
BUSY_TIMEOUT = 60.0


def resolve_url(url: str | os.PathLike[str] | None = None) -> str:
    """Return the catalogue URL to use.

    Parameters
    ----------
    url : str or path, optional
        A SQLAlchemy URL or a path to an SQLite file. When not given,
        ``EXTRA_CATALOG_URL`` is used, else :func:`default_catalog_path`.

    Returns
    -------
    str
        A SQLAlchemy URL (file paths made absolute, ``postgresql://`` given
        the psycopg 3 driver).
    """
    if url is None or str(url) == "":
        url = os.environ.get(ENV_URL) or default_catalog_path()
    text = os.fspath(url)
    if "://" not in text:
        return f"sqlite:///{os.path.abspath(os.path.expanduser(text))}"
    try:
        parsed = make_url(text)
    except (ArgumentError, ValueError) as exc:
        raise CatalogConnectionError(_bad_url_message(text)) from exc
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed.render_as_string(hide_password=False)
    return text


def display_url(url: str | URL) -> str:
    """Return *url* with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return str(url)


def sqlite_file(url: str) -> Path | None:
    """Return the file of an SQLite URL, None for in-memory or other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def _bad_url_message(url: str) -> str:
    return (f"{url!r} is not a catalogue URL: give a file path, sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DATABASE (--catalog or EXTRA_CATALOG_URL)")


def create_catalog_engine(url: str, *, busy_timeout: float = BUSY_TIMEOUT) -> Engine:
    """Create the engine of a catalogue URL, with the SQLite settings applied.

    Parameters
    ----------
    url : str
        A resolved URL (see :func:`resolve_url`).
    busy_timeout : float
        Seconds an SQLite writer waits for the write lock.

    Raises
    ------
    CatalogConnectionError
        The URL is malformed or its database driver is not installed.
    """
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": busy_timeout})
            _configure_sqlite(engine, busy_timeout)
        else:
            engine = create_engine(parsed)
    except (ArgumentError, ValueError) as exc:
        raise CatalogConnectionError(_bad_url_message(url)) from exc
    except ModuleNotFoundError as exc:
        raise CatalogConnectionError(
            f"catalogue {display_url(url)} needs the Python module {exc.name!r}: "
            "install it, e.g. pip install 'extra_catalog[postgres]'") from exc
    return engine


def _configure_sqlite(engine: Engine, busy_timeout: float) -> None:
    """Set the pragmas on every new connection and take over BEGIN.

    pysqlite starts transactions lazily and never before a SELECT, which
    breaks savepoints and read-then-write units of work; with the driver in
    autocommit mode SQLAlchemy's "begin" event emits BEGIN itself. A session
    that will write asks for ``BEGIN IMMEDIATE`` (execution option
    ``sqlite_begin``), so it waits for the write lock up front instead of
    failing when upgrading a read lock.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            # Safe with WAL (a power cut may lose the last commits, never
            # corrupt the file) and much faster than FULL.
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def translate_db_error(exc: DBAPIError, url: str) -> CatalogError | None:
    """Return the project exception naming the fix for *exc*, or None.

    Parameters
    ----------
    exc : sqlalchemy.exc.DBAPIError
        An error raised while talking to the catalogue at *url*.
    url : str
        The catalogue URL (shown with its password hidden).
    """
    shown = display_url(url)
    text = str(exc.orig).strip()
    lowered = text.lower()
    if "database is locked" in lowered or "database table is locked" in lowered:
        return CatalogLockedError(
            f"catalogue {shown} is locked: another process has been writing to it "
            "for longer than the busy timeout (is a crawler, `xfel-index crawl`, "
            "running?); retry when it has finished")
    if "file is not a database" in lowered:
        return NotACatalogError(
            f"{shown} is not a catalogue: the file is not an SQLite database; give "
            "the right file with --catalog or EXTRA_CATALOG_URL, or create one with "
            f"`xfel-index init URL`")
    if "unable to open database file" in lowered:
        return CatalogConnectionError(
            f"cannot open catalogue {shown}: check that its directory exists and "
            "is readable (create a catalogue with `xfel-index init URL`)")
    if exc.connection_invalidated or _is_connect_error(exc, lowered):
        first_line = text.splitlines()[0] if text else type(exc.orig).__name__
        return CatalogConnectionError(
            f"cannot connect to catalogue {shown}: {first_line}; check the URL "
            "(--catalog or EXTRA_CATALOG_URL) and that the database server is running")
    return None


_CONNECT_FAILURES = (
    "connection refused", "connection failed", "could not connect",
    "could not translate host name", "name or service not known", "does not exist",
    "password authentication failed", "no password supplied", "timeout expired",
)


def _is_connect_error(exc: DBAPIError, lowered: str) -> bool:
    # Only OperationalError: "relation ... does not exist" is a ProgrammingError.
    return isinstance(exc, OperationalError) and any(
        words in lowered for words in _CONNECT_FAILURES)


class Catalog:
    """An open catalogue: an engine and the one session factory.

    Use :func:`extra_catalog.catalog.open_catalog` to get one: it checks the
    schema revision first.

    Parameters
    ----------
    url : str
        Resolved catalogue URL.
    engine : sqlalchemy.Engine
        Engine made by :func:`create_catalog_engine`.
    """

    def __init__(self, url: str, engine: Engine):
        self.url = url
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"Catalog({display_url(self.url)!r})"

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    @property
    def is_sqlite(self) -> bool:
        """True if the catalogue is an SQLite database."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session_scope(self, *, write: bool = False) -> Iterator[Session]:
        """Yield a session whose work is committed on exit, rolled back on error.

        Parameters
        ----------
        write : bool
            The unit of work will write: on SQLite, take the write lock at
            the start (waiting up to the busy timeout for other writers).

        Raises
        ------
        CatalogLockedError, CatalogConnectionError, NotACatalogError
            Database errors that have a known fix are translated.
        """
        with self.translate_errors():
            session = self._sessions()
            try:
                if write and self.is_sqlite:
                    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    @contextmanager
    def translate_errors(self) -> Iterator[None]:
        """Turn database errors with a known fix into project exceptions."""
        try:
            yield
        except DBAPIError as exc:
            translated = translate_db_error(exc, self.url)
            if translated is None:
                raise
            raise translated from exc
