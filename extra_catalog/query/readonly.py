"""Run one user query read-only, with a time limit, on SQLite or PostgreSQL.

Read-only is enforced by the database, not by parsing alone:

* SQLite: ``PRAGMA query_only`` plus an authorizer that allows reading and
  nothing else (no ATTACH, PRAGMA, CREATE TEMP...), and a progress handler
  that interrupts the query at its deadline;
* PostgreSQL: ``SET TRANSACTION READ ONLY`` (which a later statement of the
  same transaction cannot undo) and ``SET LOCAL statement_timeout``.

The transaction is always rolled back and the connection's settings are
restored before it goes back to the pool.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, StatementError

from .errors import QueryError, QueryTimeoutError

__all__ = ["run_readonly"]

# Authorizer actions a query needs: SELECT, READ a column, call a FUNCTION,
# a RECURSIVE CTE, and the BEGIN/ROLLBACK SQLAlchemy wraps it in.
_SQLITE_ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                   sqlite3.SQLITE_TRANSACTION, getattr(sqlite3, "SQLITE_RECURSIVE", 33)}
#: Virtual machine steps between two looks at the clock.
_PROGRESS_STEPS = 10_000


def run_readonly(engine: Engine, sql: str, params: Mapping[str, Any] | None, *,
                 timeout: float | None, shift: int = 0) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Execute *sql* read-only and return its column names and rows.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The catalogue's engine.
    sql : str
        One query, with ``:name`` placeholders for *params*.
    timeout : float or None
        Seconds after which the query is stopped (None: no limit).
    shift : int
        Characters added in front of the user's text (error positions are
        moved back by this much).

    Raises
    ------
    QueryError
        The database refused or failed the query (message from the database).
    QueryTimeoutError
        The query ran longer than *timeout*.
    """
    with engine.connect() as connection:
        guard = _sqlite_guard if engine.dialect.name == "sqlite" else _postgres_guard
        try:
            with guard(connection, timeout) as timed_out:
                try:
                    result = connection.execute(text(sql), dict(params or {}))
                    return list(result.keys()), [tuple(row) for row in result]
                except (DBAPIError, StatementError) as exc:
                    if timed_out() or _is_cancel(exc):
                        raise QueryTimeoutError(_timeout_message(timeout)) from exc
                    raise QueryError(_error_message(exc, sql, shift)) from exc
        finally:
            connection.rollback()


@contextmanager
def _sqlite_guard(connection: Connection, timeout: float | None) -> Iterator[Any]:
    raw = connection.connection.dbapi_connection
    assert raw is not None
    deadline = None if timeout is None else time.monotonic() + timeout
    fired = [False]

    def progress() -> int:
        if deadline is not None and time.monotonic() > deadline:
            fired[0] = True
            return 1  # non-zero interrupts the statement
        return 0

    def authorize(action: int, *_args: Any) -> int:
        return sqlite3.SQLITE_OK if action in _SQLITE_ALLOWED else sqlite3.SQLITE_DENY

    raw.execute("PRAGMA query_only = ON")
    raw.set_authorizer(authorize)
    raw.set_progress_handler(progress, _PROGRESS_STEPS)
    try:
        yield lambda: fired[0]
    finally:
        raw.set_progress_handler(None, 0)
        raw.set_authorizer(None)
        if raw.in_transaction:
            raw.rollback()
        raw.execute("PRAGMA query_only = OFF")


@contextmanager
def _postgres_guard(connection: Connection, timeout: float | None) -> Iterator[Any]:
    connection.exec_driver_sql("SET TRANSACTION READ ONLY")
    milliseconds = 0 if timeout is None else max(1, int(timeout * 1000))
    connection.exec_driver_sql(f"SET LOCAL statement_timeout = {milliseconds}")
    yield lambda: False  # a timeout is recognised by its error class instead


def _timeout_message(timeout: float | None) -> str:
    return (f"query stopped after {timeout:g} s (the time limit): narrow it with WHERE "
            "conditions or LIMIT, or allow more time (timeout=..., --timeout)")


def _is_cancel(exc: DBAPIError | StatementError) -> bool:
    # psycopg's QueryCanceled: PostgreSQL stopped the statement at statement_timeout.
    return type(getattr(exc, "orig", None)).__name__ == "QueryCanceled"


def _error_message(exc: DBAPIError | StatementError, sql: str, shift: int) -> str:
    """The database's message, pointing into the user's text where it says where."""
    from .statement import point_at

    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines()
    message = lines[0] if lines else type(exc).__name__
    if "not authorized" in message or "read-only" in message or "readonly" in message:
        message += " (the SQL interface is read-only)"
    diag = getattr(orig, "diag", None)
    position = getattr(diag, "statement_position", None)
    if position:
        user_position = int(position) - 1 - shift
        if user_position >= 0:
            message += "\n" + point_at(sql[shift:], user_position)
    return f"query failed: {message}"
