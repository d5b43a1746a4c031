"""Compiled statements of one :class:`~extra_catalog.query.Catalog`, reused while valid.

:meth:`Catalog.runs <extra_catalog.query.Catalog.runs>` builds a statement
from the query, the visible proposals and a few look-ups in the catalogue
(the proposal aliases of a source name, the names matching a glob; see
:data:`~.translate.LOOKUPS`). :class:`PreparedStatements` keeps the compiled
statement of each recent (query, visible proposals) pair with the look-up
answers it was built from. The next call runs the same look-ups (an indexed
lookup, or none for plain names) and reuses the statement only if every
answer is unchanged, so a crawl between two calls is always seen. Results
are never cached.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Compiled, Dialect

from ..catalog.models import Proposal, Run
from .rawsql import DriverSQL, RawReader
from .terms import RunQuery
from .translate import LOOKUPS, Lookup, runs_select

__all__ = ["PreparedStatements", "ReaderLookup", "VISIBILITY_PATHS", "fingerprint"]

#: Per proposal its first and last run directory (for visibility checks).
VISIBILITY_PATHS: Select[Any] = (
    select(Proposal.number, func.min(Run.path), func.max(Run.path))
    .join(Run, Run.proposal_id == Proposal.id).group_by(Proposal.number))

# Placeholder values the parametrised look-ups are compiled with.
_LOOKUP_PARAMS = {"aliases": {"alias": ""}}

#: Per look-up made: its name, its parameters and the fingerprint of its answer.
Answers = tuple[tuple[str, tuple[tuple[str, Any], ...], Any], ...]


class ReaderLookup(Lookup):
    """Look-ups on a :class:`~.rawsql.RawReader`, recording every answer.

    Parameters
    ----------
    reader : RawReader
        The read transaction to use.
    statements : PreparedStatements
        Where the compiled look-up statements come from.
    """

    def __init__(self, reader: RawReader, statements: PreparedStatements):
        self.reader = reader
        self.statements = statements
        self.answers: list[tuple[str, tuple[tuple[str, Any], ...], Any]] = []

    def rows(self, name: str, **params: Any) -> list[tuple[Any, ...]]:
        found = [tuple(row) for row in self.reader.fetch(self.statements.lookup(name), **params)]
        self.answers.append((name, tuple(sorted(params.items())), fingerprint(found)))
        return found


#: Answers up to this many rows are kept as they are; longer ones as a digest.
_KEPT_ROWS = 256


def fingerprint(rows: list[tuple[Any, ...]]) -> Any:
    """What is kept of a look-up's answer to tell whether it changed.

    The rows themselves when few; for long answers (every source name of
    a large catalogue, for a glob) their length and a 32-byte BLAKE2 digest
    of their text, so that the statements kept do not hold copies of them.
    """
    if len(rows) <= _KEPT_ROWS:
        return rows
    return len(rows), hashlib.blake2b(repr(rows).encode(), digest_size=32).digest()


@dataclass(frozen=True)
class _Entry:
    answers: Answers
    statement: DriverSQL


class PreparedStatements:
    """Compiled look-ups and run statements for one dialect (thread-safe).

    Parameters
    ----------
    dialect : sqlalchemy.engine.Dialect
        The catalogue's dialect.
    size : int
        How many (query, visible proposals) statements to keep (least
        recently used go first).
    """

    def __init__(self, dialect: Dialect, size: int = 64):
        self.dialect = dialect
        self.size = size
        self._lookups: dict[str, DriverSQL] = {}
        self._runs: OrderedDict[tuple[RunQuery, tuple[int, ...] | None], _Entry] = OrderedDict()
        self._compiled: OrderedDict[Any, Compiled] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, name: str) -> DriverSQL:
        """The compiled look-up *name* of :data:`~.translate.LOOKUPS` (or ``'visibility'``)."""
        found = self._lookups.get(name)
        if found is None:
            stmt = VISIBILITY_PATHS if name == "visibility" else LOOKUPS[name]
            found = DriverSQL.compile(stmt, self.dialect, _LOOKUP_PARAMS.get(name))
            self._lookups[name] = found
        return found

    def runs(self, reader: RawReader, query: RunQuery,
             visible: Collection[int] | None) -> DriverSQL:
        """The compiled :func:`~.translate.runs_select` for *query*, reused while valid."""
        key = (query, None if visible is None else tuple(sorted(visible)))
        with self._lock:
            entry = self._runs.get(key)
        if entry is not None and self._still_valid(reader, entry.answers):
            with self._lock:
                if key in self._runs:
                    self._runs.move_to_end(key)
            return entry.statement
        lookup = ReaderLookup(reader, self)
        statement = self._compile(runs_select(lookup, query, visible))
        with self._lock:
            self._runs[key] = _Entry(tuple(lookup.answers), statement)
            self._runs.move_to_end(key)
            while len(self._runs) > self.size:
                self._runs.popitem(last=False)
        return statement

    def _compile(self, stmt: Select[Any]) -> DriverSQL:
        """*stmt* for the driver, compiled once per shape as SQLAlchemy's engines do.

        Statements differing only in values (another proposal number, as
        many names in an ``IN`` list) have the same cache key; the values
        of this one are taken from its key.
        """
        key = stmt._generate_cache_key()
        if key is None:  # a construct SQLAlchemy cannot cache
            return DriverSQL.compile(stmt, self.dialect)
        with self._lock:
            compiled = self._compiled.get(key.key)
            if compiled is not None:
                self._compiled.move_to_end(key.key)
        if compiled is None:
            compiled = stmt.compile(dialect=self.dialect, cache_key=key)
            with self._lock:
                self._compiled[key.key] = compiled
                while len(self._compiled) > self.size:
                    self._compiled.popitem(last=False)
        values = compiled.construct_params(extracted_parameters=key.bindparams,
                                           escape_names=False)
        return DriverSQL.of(compiled, values)

    def _still_valid(self, reader: RawReader, answers: Answers) -> bool:
        """Whether every recorded look-up still gives the same answer."""
        for name, params, kept in answers:
            now = reader.fetch(self.lookup(name), **dict(params))
            if fingerprint([tuple(row) for row in now]) != kept:
                return False
        return True

    def clear(self) -> None:
        """Forget every compiled statement of runs."""
        with self._lock:
            self._runs.clear()
            self._compiled.clear()
