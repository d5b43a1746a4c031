"""The user's door to the catalogue: which runs have what, as pandas DataFrames.

Typical use::

    from extra_catalog import Catalog

    cat = Catalog()                                   # the default catalogue
    hits = cat.runs(source="SPB_IRU_MOTORS/*", min_trains=100,
                    run_values=["SPB_IRU_MOTORS/MOTOR/X actualPosition >= 3.5"])
    for run in cat.open_runs(hits):
        ...
    cat.sql("SELECT source, COUNT(*) AS n FROM sources GROUP BY source")
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, column, func, literal_column, select, table
from sqlalchemy.orm import Session

from ..catalog import open_catalog
from ..catalog.models import Run
from .errors import QueryError
from .frames import decimal_columns, records_frame, uint64_array
from .prepared import VISIBILITY_PATHS, PreparedStatements
from .rawsql import RawReader, raw_reader
from .readonly import run_readonly
from .statement import check_statement, with_views
from .terms import RunQuery
from .translate import (RUN_COLUMNS, SessionLookup, key_names, run_ids_select,
                        run_value_key_names, source_names)
from .visibility import Visibility, proposal_directory

__all__ = ["Catalog", "DEFAULT_TIMEOUT", "VIEWS"]

#: Seconds a query may run before it is stopped.
DEFAULT_TIMEOUT = 60.0

#: Name in queries -> view stored in the catalogue (see docs/query.rst).
VIEWS = {"runs": "v_runs", "sources": "v_sources", "keys": "v_keys", "files": "v_files",
         "run_values": "v_run_values", "problems": "v_problems"}

# Tables that are not hidden behind a view name, and the stored views (not
# filtered by visibility): a query naming them could see other proposals.
_INTERNAL = {"proposals", "keysets", "keyset_keys", "runvalue_sets", "file_sources",
             "index_groups", "legacy_names", "alembic_version", *VIEWS.values()}
# Schema names would reach the tables behind the view names (main.runs).
_SCHEMAS = {"main", "temp", "sqlite_master", "sqlite_schema", "sqlite_temp_master",
            "sqlite_temp_schema", "public", "information_schema", "pg_catalog", "pg_temp"}


class Catalog:
    """Ask questions across runs and proposals.

    Parameters
    ----------
    url : str or path, optional
        Catalogue URL or SQLite file (default: ``EXTRA_CATALOG_URL`` or the
        per-user file, as for ``xfel-index``).
    admin : bool
        See every proposal. By default only proposals whose directory this
        user can read are visible, in every method including :meth:`sql`.
    timeout : float or None
        Seconds a query may run before it is stopped with
        :class:`~extra_catalog.query.QueryTimeoutError` (None: no limit).
    can_read : callable, optional
        ``can_read(proposal_directory) -> bool`` deciding visibility
        (default: the file system's permission for this process).
    """

    def __init__(self, url: str | os.PathLike[str] | None = None, *, admin: bool = False,
                 timeout: float | None = DEFAULT_TIMEOUT,
                 can_read: Callable[[str], bool] | None = None):
        self._store = open_catalog(url)
        self.admin = admin
        self.timeout = timeout
        self.visibility = Visibility(can_read)
        self._prepared = PreparedStatements(self._store.engine.dialect)
        self._train_columns: dict[str, Callable[[Any], Any] | None] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._store!r}{', admin=True' if self.admin else ''})"

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the database connections."""
        self._store.close()

    # -- visibility --------------------------------------------------------

    def _visible(self, session: Session) -> set[int] | None:
        """Proposal numbers this user may see; None when everything is visible."""
        if self.admin:
            return None
        return self._visible_of(session.execute(VISIBILITY_PATHS))

    def _visible_raw(self, reader: RawReader) -> set[int] | None:
        """:meth:`_visible` in a raw read transaction."""
        if self.admin:
            return None
        return self._visible_of(reader.fetch(self._prepared.lookup("visibility")))

    def _visible_of(self, rows: Any) -> set[int]:
        pairs = [(n, p) for n, first, last in rows for p in (first, last)]
        return self.visibility.visible_proposals(pairs)

    # -- filters -----------------------------------------------------------

    def runs(self, **filters: Any) -> Any:
        """Runs matching every given filter, one row per run directory.

        Parameters
        ----------
        proposal, run : int or list of int
            Proposal numbers; run numbers (or a ``range``).
        run_range : (int or None, int or None)
            Inclusive run number bounds.
        instrument, cycle, data_category : str or list of str
            E.g. ``'SPB'``, ``'202601'``, ``'raw'`` / ``'proc'``.
        date_from, date_to : str, date or datetime
            Bounds on the run's creation date (ISO strings; naive = UTC).
        sample, run_type : str
            Globs on the sample name and run type recorded in METADATA.
        source, key : str
            Globs: the run has a source matching ``source`` (with a key
            matching ``key``, if given), as ``DataCollection.select`` matches.
        run_values : str, RunValueCondition or list of them
            ``'SOURCE KEY OP VALUE'`` conditions on RUN values (the value at
            the start of the run), e.g. ``'MOTOR/X actualPosition >= 3.5'``.
        min_trains, max_trains : int
            Bounds on the number of good (not suspect) trains.
        train : int
            The run spans this train ID.
        has_problems : bool
            Problems were (True) or were not (False) recorded for the run.
        has_suspect_trains : bool
            The run has (True) or has no (False) suspect trains: train IDs
            flagged suspect in its files and good in none of them, which
            only ``inc_suspect_trains=True`` shows.
        min_suspect_trains, max_suspect_trains : int
            Bounds on that number of suspect trains.
        on_disk : bool
            Every file of the run (True), or not every file (False), could
            be read and was on disk (``ONLINE``, ``ONLINE_AND_NEARLINE`` or
            not on dCache) when the crawler last checked it; files never
            checked (crawled before locality was recorded, or recorded by
            the reader) count as not on disk. The ``files`` view says when
            each file was checked (``checked_at``).

        Returns
        -------
        pandas.DataFrame
            Columns :data:`~extra_catalog.query.translate.RUN_COLUMNS`;
            ``first_train``/``last_train`` are exact unsigned 64-bit
            (pandas ``UInt64``).
        """
        query = RunQuery.build(**filters)
        # Compiled statements on the driver: building and executing them
        # through the ORM took several times as long as SQLite's answer.
        with self._store.translate_errors(), raw_reader(self._store.engine) as reader:
            statement = self._prepared.runs(reader, query, self._visible_raw(reader))
            rows = reader.fetch(statement)
        return records_frame(RUN_COLUMNS, rows, self._train_arrays(rows))

    def _train_arrays(self, rows: Sequence[tuple[Any, ...]]) -> dict[str, Any]:
        """``first_train`` and ``last_train`` of driver rows as exact ``UInt64`` arrays."""
        if self._train_columns is None:
            dialect = self._store.engine.dialect
            self._train_columns = {name: getattr(Run, name).type.dialect_impl(dialect)
                                   .result_processor(dialect, None)
                                   for name in ("first_train", "last_train")}
        arrays = {}
        for name, process in self._train_columns.items():
            at = RUN_COLUMNS.index(name)
            values = [row[at] for row in rows]
            # From the Python ints: via float64 (None -> NaN) IDs near 2**64 would round.
            arrays[name] = uint64_array(values if process is None else list(map(process, values)))
        return arrays

    def sources(self, source: str = "*", **filters: Any) -> Any:
        """Sources of the runs matching *filters* (view ``sources``).

        Parameters
        ----------
        source : str
            Glob on source names.
        **filters
            As for :meth:`runs`.
        """
        return self._view_rows("sources", filters, source=source)

    def keys(self, source: str = "*", key: str = "*", **filters: Any) -> Any:
        """Keys of the sources of the matching runs (view ``keys``).

        ``key`` follows ``DataCollection.select``: for CONTROL sources a
        pattern not ending in ``.value`` or ``*`` gets ``.value`` appended.
        """
        return self._view_rows("keys", filters, source=source, key=key)

    def files(self, **filters: Any) -> Any:
        """Files of the runs matching *filters* (view ``files``)."""
        return self._view_rows("files", filters)

    def run_values(self, source: str = "*", key: str = "*", **filters: Any) -> Any:
        """RUN values of the matching runs (view ``run_values``).

        ``key`` may omit ``.value`` (``'actualPosition'``).
        """
        return self._view_rows("run_values", filters, source=source, key=key)

    def problems(self, **filters: Any) -> Any:
        """Problems recorded for the runs matching *filters* (view ``problems``)."""
        return self._view_rows("problems", filters)

    def _view_rows(self, name: str, filters: dict[str, Any], *, source: str = "*",
                   key: str = "*") -> Any:
        query = RunQuery.build(**filters)
        view = table(VIEWS[name], column("run_id"), column("source"), column("key"),
                     column("section"), column("proposal"), column("run"),
                     column("data_category"))
        with self._store.session_scope() as session:
            visible = self._visible(session)
            lookup = SessionLookup(session)
            stmt: Select[Any] = select(literal_column("*")).select_from(view)
            if query != RunQuery() or visible is not None:
                stmt = stmt.where(view.c.run_id.in_(_run_ids(session, query, visible)))
            if source != "*":
                stmt = stmt.where(view.c.source.in_(source_names(lookup, source)))
            if key != "*":
                stmt = stmt.where(_key_condition(lookup, view, name, key))
            order = [view.c.proposal, view.c.run, view.c.data_category]
            if name in ("sources", "keys", "run_values"):
                order.append(view.c.source)
            result = session.execute(stmt.order_by(*order))
            return _frame(list(result.keys()), [tuple(r) for r in result])

    # -- SQL -----------------------------------------------------------------

    def sql(self, query: str, params: Mapping[str, Any] | None = None, *,
            timeout: float | None = None) -> Any:
        """Run one read-only SQL query over the views and return its rows.

        The views ``runs``, ``sources``, ``keys``, ``files``, ``run_values``
        and ``problems`` are documented in ``docs/query.rst``; only the
        proposals visible to this user are in them.

        Parameters
        ----------
        query : str
            One ``SELECT`` (or ``WITH ... SELECT``) statement; ``:name``
            placeholders take their values from *params*.
        params : mapping, optional
            Values of the placeholders.
        timeout : float, optional
            Seconds before the query is stopped (default: the catalogue's).

        Raises
        ------
        QueryError
            Not a single query, a write, a name outside the views, or an
            error from the database; the message points at the mistake.
        QueryTimeoutError
            The query took longer than the time limit.
        """
        if self.admin:
            found = check_statement(query)
        else:
            # pg_stats and the like would show values of every proposal.
            found = check_statement(query, self._hidden_names(), ("pg_",))
        with self._store.session_scope() as session:
            visible = self._visible(session)
        full, shift = with_views(query, found, _view_bodies(visible))
        columns, rows = run_readonly(self._store.engine, full, params, shift=shift,
                                     timeout=self.timeout if timeout is None else timeout)
        return _frame(columns, rows)

    def _hidden_names(self) -> set[str]:
        names = _INTERNAL | _SCHEMAS
        if not self._store.is_sqlite:
            with self._store.session_scope() as session:
                schemas = session.execute(select(func.current_schemas(True))).scalar_one()
            names |= {s.lower() for s in schemas}
        return names

    # -- opening data ----------------------------------------------------------

    def open_run(self, proposal: int, run: int, **kwargs: Any) -> Any:
        """Open a catalogued run as :func:`extra_catalog.reader.opening.open_run` does.

        The proposal directory comes from this catalogue (so the data root
        need not be set), and only visible proposals can be opened. Keyword
        arguments (``data``, ``include``...) go to ``open_run``.

        Raises
        ------
        QueryError
            The run is not in the catalogue or not visible to this user.
        """
        from ..reader.opening import open_run

        found = self.runs(proposal=int(proposal), run=int(run))
        if found.empty:
            raise QueryError(f"run {run} of proposal {proposal} is not in catalogue "
                             f"{self._store!r} (or its proposal directory is not readable)")
        kwargs.setdefault("catalog", self._store.url)
        return open_run(proposal_directory(found["path"].iloc[0]), int(run), **kwargs)

    def open_runs(self, runs: Any, **kwargs: Any) -> Iterator[Any]:
        """Open each distinct (proposal, run) of a :meth:`runs` result, in order.

        Yields the same DataCollection as :meth:`open_run` gives for each.
        """
        seen: set[tuple[int, int]] = set()
        for proposal, run in zip(runs["proposal"], runs["run"]):
            pair = (int(proposal), int(run))
            if pair not in seen:
                seen.add(pair)
                yield self.open_run(*pair, **kwargs)


def _run_ids(session: Session, query: RunQuery, visible: set[int] | None) -> Any:
    """The matching run ids for ``view.run_id IN (...)``: a list of numbers when short.

    The views are DISTINCT over joins; the databases push a list of numbers
    into them (PostgreSQL never pushes a subquery), so the view is computed
    for these runs only instead of for every run having the source (keys of
    a source in one proposal of 100,000 runs, p95: 1.3 s -> 0.3 s).
    """
    ids = run_ids_select(SessionLookup(session), query, visible)
    found = session.scalars(ids.limit(_LISTED_RUNS + 1)).all()
    return found if len(found) <= _LISTED_RUNS else ids


#: Up to this many run ids go to the views as a list of numbers (bound
#: parameters: far below the backends' limits); more as a subquery.
_LISTED_RUNS = 2000


def _key_condition(lookup: SessionLookup, view: Any, name: str, key: str) -> Any:
    if name == "run_values":
        return view.c.key.in_(run_value_key_names(lookup, key))
    other, control = key_names(lookup, key)
    return ((view.c.section != "CONTROL") & view.c.key.in_(other)) | (
        (view.c.section == "CONTROL") & view.c.key.in_(control))


def _view_bodies(visible: set[int] | None) -> dict[str, str]:
    """The views under their short names, filtered to the visible proposals."""
    if visible is None:
        where = ""
    elif visible:
        # Integers from the catalogue itself: safe to write into the SQL.
        where = f" WHERE proposal IN ({', '.join(str(int(n)) for n in sorted(visible))})"
    else:
        where = " WHERE 1 = 0"
    return {name: f"SELECT * FROM {stored}{where}" for name, stored in VIEWS.items()}


def _frame(columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> Any:
    """A DataFrame of the rows; PostgreSQL NUMERIC (train IDs) become ints."""
    rows = list(rows)
    return decimal_columns(records_frame(columns, rows), list(columns), rows)
