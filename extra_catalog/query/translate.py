"""Translate :class:`~.terms.RunQuery` filters to SQL over the catalogue tables.

The one module of the query layer that knows the table layout. Globs are
matched in Python against the catalogue's distinct names (sources, key
names, samples...), so they follow ``fnmatch`` exactly on every backend; the
matched names then go to the database as ``IN`` lists. Train IDs are bound
through the :class:`~extra_catalog.catalog.types.UInt64` columns, so range
conditions stay exact up to ``2**64 - 1``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import replace
from glob import escape
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session

from ..catalog.locality import ON_DISK_LOCALITIES, READABLE_STATES
from ..aliasfile import normalise_alias
from ..catalog.models import (File, FileSource, KeysetKey, Problem, Proposal, ProposalAlias, Run,
                              RunValue, Source)
from .terms import RunQuery, RunValueCondition, control_key_pattern, is_glob, match_names

__all__ = ["RUN_COLUMNS", "LOOKUPS", "Lookup", "SessionLookup", "runs_select",
           "run_ids_select", "source_names", "key_names", "run_value_key_names"]

#: Columns of :meth:`Catalog.runs` results, in order.
RUN_COLUMNS = ("proposal", "run", "data_category", "instrument", "cycle", "path",
               "first_train", "last_train", "n_trains", "n_suspect_trains", "n_files",
               "format_version", "creation_date", "update_date", "sample", "run_type",
               "n_problems")


#: The look-ups of names the translation makes (the only statements it runs):
#: a proposal alias (parameter ``alias``), or the distinct names to match globs.
LOOKUPS: dict[str, Select[Any]] = {
    "aliases": select(ProposalAlias.proposal_id, ProposalAlias.source, ProposalAlias.key)
    .where(ProposalAlias.alias == bindparam("alias", type_=ProposalAlias.alias.type)),
    "samples": select(Run.sample).distinct().where(Run.sample.is_not(None)),
    "run_types": select(Run.run_type).distinct().where(Run.run_type.is_not(None)),
    "sources": select(Source.name),
    "keyset_keys": select(KeysetKey.name).distinct(),
    "run_value_keys": select(RunValue.key).distinct(),
}


class Lookup:
    """Answers the look-ups of :data:`LOOKUPS`; subclasses say how.

    The statements the translation builds depend only on the query, the
    visible proposals and these answers, so a caller that records them can
    reuse a statement for as long as the answers stay the same.
    """

    def rows(self, name: str, **params: Any) -> list[tuple[Any, ...]]:
        """The rows of look-up *name* with the given parameters."""
        raise NotImplementedError


class SessionLookup(Lookup):
    """Look-ups through an ORM session (in its transaction)."""

    def __init__(self, session: Session):
        self.session = session

    def rows(self, name: str, **params: Any) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.session.execute(LOOKUPS[name], params)]


def _n_problems() -> Any:
    return (select(func.count(Problem.id)).where(Problem.run_id == Run.id)
            .correlate(Run).scalar_subquery())


def runs_select(lookup: Lookup, query: RunQuery,
                visible: Collection[int] | None) -> Select[Any]:
    """The runs matching *query* with the :data:`RUN_COLUMNS`.

    Parameters
    ----------
    lookup : Lookup
        Answers the look-ups of aliases and glob names.
    visible : collection of int or None
        Proposal numbers the user may see; None shows every proposal.
    """
    columns = [Proposal.number.label("proposal"), Run.number.label("run"),
               Run.data_category, Proposal.instrument, Proposal.cycle, Run.path,
               Run.first_train, Run.last_train, Run.n_trains, Run.n_suspect_trains,
               Run.n_files, Run.format_version, Run.creation_date, Run.update_date,
               Run.sample, Run.run_type, _n_problems().label("n_problems")]
    stmt = select(*columns).join(Proposal, Proposal.id == Run.proposal_id)
    stmt = stmt.where(*_conditions(lookup, query, visible))
    return stmt.order_by(Proposal.number, Run.number, Run.data_category)


def run_ids_select(lookup: Lookup, query: RunQuery,
                   visible: Collection[int] | None) -> Select[Any]:
    """``SELECT runs.id`` of the runs matching *query* (for use in ``IN``)."""
    stmt = select(Run.id).join(Proposal, Proposal.id == Run.proposal_id)
    return stmt.where(*_conditions(lookup, query, visible))


def _conditions(lookup: Lookup, q: RunQuery,
                visible: Collection[int] | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if visible is not None:
        where.append(Proposal.number.in_(sorted(visible)))
    for column, values in ((Proposal.number, q.proposal), (Proposal.instrument, q.instrument),
                           (Proposal.cycle, q.cycle), (Run.number, q.run),
                           (Run.data_category, q.data_category)):
        if values is not None:
            where.append(column.in_(values))
    if q.run_range is not None:
        first, last = q.run_range
        if first is not None:
            where.append(Run.number >= first)
        if last is not None:
            where.append(Run.number <= last)
    where += _scalar_conditions(lookup, q)
    # Key '*' selects a whole source (even one with RUN values only), as in select().
    key = None if q.key == "*" else q.key
    if (q.source is not None and q.source != "*") or key is not None:
        where.append(_or_alias(_has_source_key(lookup, q.source or "*", key),
                               _alias_condition(lookup, q.source, key)))
    where += [_or_alias(_run_value_condition(lookup, c),
                        _alias_condition(lookup, c.source, None, c))
              for c in q.run_values]
    return where


def _or_alias(condition: ColumnElement[bool],
              alias: ColumnElement[bool] | None) -> ColumnElement[bool]:
    return condition if alias is None else or_(condition, alias)


def _alias_condition(lookup: Lookup, name: str | None, key: str | None,
                     run_value: RunValueCondition | None = None) -> ColumnElement[bool] | None:
    """Runs of proposals where *name* is an alias, tested on what it stands for.

    A source alias is tested like the source name (with *key* or the
    run-value condition); a (source, key) alias supplies the key when none
    is given. None when *name* is a glob or no proposal defines it.
    """
    if name is None or any(c in name for c in "*?["):
        return None
    rows = lookup.rows("aliases", alias=normalise_alias(name))
    by_target: dict[tuple[str, str | None], list[int]] = {}
    for proposal_id, source, alias_key in rows:
        by_target.setdefault((source, alias_key), []).append(proposal_id)
    conditions = []
    for (source, alias_key), proposal_ids in sorted(by_target.items(), key=str):
        pattern = escape(source)
        if run_value is not None:
            if alias_key is not None:  # 'SOURCE KEY OP VALUE' needs a source alias
                continue
            test = _run_value_condition(lookup, replace(run_value, source=pattern))
        else:
            test = _has_source_key(lookup, pattern, key if key is not None else alias_key)
        conditions.append(and_(Run.proposal_id.in_(proposal_ids), test))
    return or_(*conditions) if conditions else None


def _scalar_conditions(lookup: Lookup, q: RunQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if q.date_from is not None:
        where.append(Run.creation_date >= q.date_from)
    if q.date_to is not None:
        where.append(Run.creation_date <= q.date_to)
    for column, pattern, names in ((Run.sample, q.sample, "samples"),
                                   (Run.run_type, q.run_type, "run_types")):
        if pattern is not None:
            where.append(column.in_(_matching(pattern, _names(lookup, names))))
    if q.min_trains is not None:
        where.append(Run.n_trains >= q.min_trains)
    if q.max_trains is not None:
        where.append(Run.n_trains <= q.max_trains)
    if q.train is not None:
        # Order-preserving UInt64 columns: exact comparisons near 2**64.
        where.append(and_(Run.first_train <= q.train, Run.last_train >= q.train))
    if q.has_suspect_trains is not None:
        where.append(Run.n_suspect_trains > 0 if q.has_suspect_trains
                     else Run.n_suspect_trains == 0)
    if q.min_suspect_trains is not None:
        where.append(Run.n_suspect_trains >= q.min_suspect_trains)
    if q.max_suspect_trains is not None:
        where.append(Run.n_suspect_trains <= q.max_suspect_trains)
    if q.has_problems is not None:
        where.append(_n_problems() > 0 if q.has_problems else _n_problems() == 0)
    if q.on_disk is not None:
        where.append(~_file_not_on_disk() if q.on_disk else _file_not_on_disk())
    return where


def _file_not_on_disk() -> ColumnElement[bool]:
    """A file of the run could not be read, or is not on disk, or was never checked."""
    return exists(select(File.id).where(
        File.run_id == Run.id,
        or_(File.state.not_in(READABLE_STATES), File.locality.is_(None),
            File.locality.not_in(ON_DISK_LOCALITIES))).correlate(Run))


def _matching(pattern: str, stored: Callable[[], Iterable[str | None]]) -> list[str]:
    """Stored names matching a glob; a plain name is returned as it is.

    The names go to an ``IN`` list, where a name that is not stored matches
    nothing, so a plain name needs no look-up: listing the distinct names
    reads a whole table on PostgreSQL (``run_values``: millions of rows).
    """
    if not is_glob(pattern):
        return [pattern]
    return match_names(pattern, [n for n in stored() if n is not None])


def _names(lookup: Lookup, name: str) -> Callable[[], Iterable[str | None]]:
    """A deferred look-up of the stored names *name* (run only for a glob)."""
    return lambda: [row[0] for row in lookup.rows(name)]


def source_names(lookup: Lookup, pattern: str) -> list[str]:
    """Catalogued source names matching a glob (a plain name as it is)."""
    return _matching(pattern, _names(lookup, "sources"))


def key_names(lookup: Lookup, pattern: str) -> tuple[list[str], list[str]]:
    """Key names matching a glob for (other, CONTROL) sources."""
    if not is_glob(pattern):
        return [pattern], [control_key_pattern(pattern)]
    names = _names(lookup, "keyset_keys")()
    return match_names(pattern, names), match_names(control_key_pattern(pattern), names)


def run_value_key_names(lookup: Lookup, pattern: str) -> list[str]:
    """RUN value keys matching a glob, or the glob with ``.value`` appended."""
    patterns = (pattern,) if pattern.endswith((".value", "*")) else (pattern, pattern + ".value")
    if not is_glob(pattern):
        return sorted(patterns)
    names = _names(lookup, "run_value_keys")()
    return sorted({n for p in patterns for n in match_names(p, names)})


def _source_ids(lookup: Lookup, pattern: str) -> Select[Any] | None:
    """``SELECT sources.id`` for the names matching *pattern*; None for ``'*'``."""
    if pattern == "*":
        return None
    return select(Source.id).where(Source.name.in_(source_names(lookup, pattern)))


def _has_source_key(lookup: Lookup, source: str, key: str | None) -> ColumnElement[bool]:
    """A file of the run has a source matching *source* with a key matching *key*.

    ``runs.id IN (...)`` rather than a correlated EXISTS: SQLite tested an
    EXISTS run by run (seconds for 100,000 runs), while this subquery starts
    from the file sources of the matching names (index on source_id).
    """
    inner = select(File.run_id).join(FileSource, FileSource.file_id == File.id)
    ids = _source_ids(lookup, source)
    if ids is not None:
        inner = inner.where(FileSource.source_id.in_(ids))
    if key is not None:
        other, control = key_names(lookup, key)
        inner = inner.join(KeysetKey, KeysetKey.keyset_id == FileSource.keyset_id).where(or_(
            and_(FileSource.section != "CONTROL", KeysetKey.name.in_(other)),
            and_(FileSource.section == "CONTROL", KeysetKey.name.in_(control))))
    return Run.id.in_(inner)


def _run_value_condition(lookup: Lookup, cond: RunValueCondition) -> ColumnElement[bool]:
    """A file of the run has a RUN value of source/key satisfying *cond*.

    An uncorrelated ``runs.id IN (...)``, as in :func:`_has_source_key`.
    """
    keys = run_value_key_names(lookup, cond.key)
    inner = (select(File.run_id)
             .join(FileSource, FileSource.file_id == File.id)
             .join(RunValue, RunValue.set_id == FileSource.runvalue_set_id)
             .where(RunValue.key.in_(keys), _compare(cond)))
    ids = _source_ids(lookup, cond.source)
    if ids is not None:
        inner = inner.where(FileSource.source_id.in_(ids))
    return Run.id.in_(inner)


def _compare(cond: RunValueCondition) -> ColumnElement[bool]:
    """Numbers with numeric kinds (ints exactly), strings with strings."""
    op = "=" if cond.op in ("=", "==") else cond.op
    if isinstance(cond.value, str):
        return and_(RunValue.kind == "str", RunValue.value_str.op(op)(cond.value))
    return or_(
        and_(RunValue.kind.in_(("int", "bool")), RunValue.value_int.op(op)(cond.value)),
        # value_float is NULL for NaN and infinities: those never match.
        and_(RunValue.kind.in_(("float", "bigint")), RunValue.value_float.op(op)(cond.value)))

