"""Run compiled SQL straight on the driver, for the hot paths of the query API.

Building a SQLAlchemy statement and executing it through a session costs
about a millisecond per call in Python, several times what SQLite needs to
answer the queries of :meth:`Catalog.runs <extra_catalog.query.Catalog.runs>`.
Here a statement is compiled once (:class:`DriverSQL`: the SQL text and
the driver-ready parameters, bind processors applied) and executed on a
pooled DBAPI connection inside one read transaction (:class:`RawReader`).
Database errors become SQLAlchemy's :class:`~sqlalchemy.exc.DBAPIError`, so
callers translate them as for sessions, and a dropped connection is
discarded from the pool.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Compiled, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

__all__ = ["DriverSQL", "RawReader", "raw_reader"]


@dataclass(frozen=True)
class DriverSQL:
    """A statement compiled for one dialect: SQL text and driver-ready parameters.

    Attributes
    ----------
    sql : str
        The statement as the driver receives it (``IN`` lists expanded).
    names : tuple of str
        Parameter names, in order for positional drivers (SQLite).
    values : tuple
        The processed value of each name (e.g. UInt64 offsets applied).
    positional : bool
        The driver takes a sequence (True) or a mapping (False).
    """

    sql: str
    names: tuple[str, ...]
    values: tuple[Any, ...]
    positional: bool

    @classmethod
    def compile(cls, stmt: ClauseElement, dialect: Dialect,
                params: Mapping[str, Any] | None = None) -> DriverSQL:
        """Compile *stmt* with the values of its bound parameters (and *params*)."""
        return cls.of(stmt.compile(dialect=dialect), params)

    @classmethod
    def of(cls, compiled: Compiled, params: Mapping[str, Any] | None = None) -> DriverSQL:
        """The SQL of *compiled* with *params* by name (default: the compiled values)."""
        dialect = compiled.dialect
        state = compiled.construct_expanded_state(dict(params or {}))
        names = tuple(state.positiontup if compiled.positional else state.parameters)
        # The expanded state has the processors of expanded IN lists only.
        escaped = compiled.escaped_bind_names
        processors = {escaped.get(name, name): bind.type.dialect_impl(dialect)
                      .bind_processor(dialect) for bind, name in compiled.bind_names.items()}
        processors = {name: p for name, p in processors.items() if p is not None}
        processors.update(state.processors)
        values = tuple(processors[n](state.parameters[n]) if n in processors
                       else state.parameters[n] for n in names)
        return cls(state.statement, names, values, bool(compiled.positional))

    def parameters(self, **replace: Any) -> Any:
        """The parameters for ``cursor.execute``, with values of *replace* by name.

        Replaced values are passed as they are (no bind processor): use it
        for plain text and integer parameters only.
        """
        values = self.values if not replace else tuple(
            replace.get(n, v) for n, v in zip(self.names, self.values))
        return values if self.positional else dict(zip(self.names, values))


class RawReader:
    """A pooled DBAPI connection in a read transaction; see :func:`raw_reader`."""

    def __init__(self, engine: Engine, connection: Any):
        self.engine = engine
        self.dialect = engine.dialect
        self._connection = connection
        self._autocommit: bool | None = None
        self._cursor = connection.cursor()

    def fetch(self, query: DriverSQL, **replace: Any) -> list[tuple[Any, ...]]:
        """All rows of *query* (see :meth:`DriverSQL.parameters` for *replace*).

        The engine's ``before_cursor_execute`` and ``after_cursor_execute``
        listeners see the statement as for any other (with no SQLAlchemy
        connection or execution context: ``conn`` and ``context`` are None).
        """
        params = query.parameters(**replace)
        dispatch = self.engine.dispatch
        if dispatch.before_cursor_execute:
            dispatch.before_cursor_execute(None, self._cursor, query.sql, params, None, False)
        try:
            self._cursor.execute(query.sql, params)
            if dispatch.after_cursor_execute:  # before the rows are fetched, as SQLAlchemy
                dispatch.after_cursor_execute(None, self._cursor, query.sql, params, None, False)
            return self._cursor.fetchall()
        except self.dialect.loaded_dbapi.Error as exc:
            raise self._wrap(exc, query.sql, params) from exc

    def _wrap(self, exc: Exception, sql: str, params: Any) -> DBAPIError:
        is_disconnect = self.dialect.is_disconnect(exc, self._connection.dbapi_connection,
                                                   self._cursor)
        if is_disconnect:
            self._connection.invalidate(exc)
        return DBAPIError.instance(sql, params, exc, self.dialect.loaded_dbapi.Error,
                                   connection_invalidated=is_disconnect,
                                   dialect=self.dialect)

    def begin(self) -> None:
        """Start reading: a transaction on SQLite, driver autocommit elsewhere.

        PostgreSQL (READ COMMITTED) gives each statement its own snapshot
        inside a transaction too, so a read-only transaction would only add
        the round trips of BEGIN and ROLLBACK.
        """
        if self.dialect.name == "sqlite":
            self.fetch(_BEGIN)
        elif hasattr(self._connection.dbapi_connection, "autocommit"):
            self._autocommit = self._connection.dbapi_connection.autocommit
            self._connection.dbapi_connection.autocommit = True

    def close(self) -> None:
        """End the read transaction and give the connection back to the pool."""
        try:
            self._cursor.close()
            if self._connection.is_valid:
                if self._autocommit is not None:
                    self._connection.dbapi_connection.autocommit = self._autocommit
                else:
                    self._connection.rollback()
        finally:
            self._connection.close()


@contextmanager
def raw_reader(engine: Engine) -> Iterator[RawReader]:
    """A :class:`RawReader` whose statements see one snapshot (on SQLite).

    SQLite connections of the catalogue run in driver autocommit mode, so
    the transaction is begun here (see :meth:`RawReader.begin`).

    Raises
    ------
    sqlalchemy.exc.DBAPIError
        As a session would (translate with ``Catalog.translate_errors``).
    """
    connection = engine.raw_connection()
    reader = RawReader(engine, connection)
    try:
        reader.begin()
        yield reader
    finally:
        reader.close()


_BEGIN = DriverSQL("BEGIN DEFERRED", (), (), True)
