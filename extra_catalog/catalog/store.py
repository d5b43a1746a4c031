"""The catalogue's unit-of-work API, used by the crawler and the reader.

Every function takes either a :class:`~extra_catalog.catalog.engine.Catalog`
(the function runs its own transaction and commits it) or a SQLAlchemy
``Session`` already in use (the function runs inside a savepoint, so it is
all-or-nothing without ending the caller's transaction). Records go in and
come out; ORM objects never leave this package.

A run is identified by its directory path, or by ``(proposal, run,
data_category)``. Files are stored by name inside their run directory.

Examples
--------
>>> from extra_catalog.catalog import open_catalog    # doctest: +SKIP
>>> with open_catalog() as catalog:                   # doctest: +SKIP
...     replace_run(catalog, info, records)           # one transaction
...     run = load_run(catalog, info.path)            # records back, in path order
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from ..exceptions import CatalogError
from ..records import FileRecord, ProblemRecord
from . import _write
from ._read import load_run_record, run_info
from .engine import Catalog
from .models import File, Problem, Proposal, Run
from .outlines import mark_stale
from .records import (FileStat, ProposalSummary, RunInfo, RunProblem, RunRecord, RunSummary,
                      UnreadableFile)
from .types import UINT64_MAX

__all__ = [
    "RunKey",
    "replace_run",
    "update_files",
    "remove_files",
    "remove_run",
    "load_run",
    "file_stats",
    "file_stats_below",
    "list_runs",
    "list_proposals",
    "record_problem",
    "replace_run_problems",
    "mark_crawled",
    "mark_crawled_many",
    "last_crawled",
]

#: A run directory path, or ``(proposal, run, data_category)``.
RunKey = str | os.PathLike[str] | tuple[int, int, str]
Target = Catalog | Session


@contextmanager
def _unit(target: Target, *, write: bool) -> Iterator[Session]:
    if isinstance(target, Session):
        if write:
            with target.begin_nested():
                yield target
        else:
            yield target
    else:
        with target.session_scope(write=write) as session:
            yield session


def _key_text(key: RunKey) -> str:
    if isinstance(key, tuple):
        proposal, run, category = key
        return f"proposal {proposal} run {run} ({category})"
    return os.fspath(key)


def _find_run(session: Session, key: RunKey) -> tuple[Run, Proposal] | None:
    statement = select(Run, Proposal).join(Proposal, Proposal.id == Run.proposal_id)
    if isinstance(key, tuple):
        proposal, run, category = key
        statement = statement.where(Proposal.number == proposal, Run.number == run,
                                    Run.data_category == category)
    else:
        statement = statement.where(Run.path == os.path.normpath(os.fspath(key)))
    found = session.execute(statement).first()
    return None if found is None else (found[0], found[1])


def _require_run(session: Session, key: RunKey) -> tuple[Run, Proposal]:
    found = _find_run(session, key)
    if found is None:
        raise CatalogError(f"{_key_text(key)} is not in the catalogue: crawl it first "
                           "(`xfel-index crawl`) or check the path (see list_runs())")
    return found


def _check_uint64(value: int | None, what: str, path: str) -> None:
    if value is not None and not 0 <= value <= UINT64_MAX:
        raise CatalogError(f"{path}: {what} {value} is not an unsigned 64-bit integer")


def _validate(info: RunInfo, files: Sequence[FileRecord | UnreadableFile]) -> str:
    """Check the input before writing anything; return the normalised run path."""
    run_path = os.path.normpath(info.path)
    if not os.path.isabs(run_path):
        raise CatalogError(f"{info.path}: the run path must be absolute")
    _check_uint64(info.first_train, "first train ID", run_path)
    _check_uint64(info.last_train, "last train ID", run_path)
    seen: set[str] = set()
    for record in files:
        if os.path.dirname(os.path.normpath(record.path)) != run_path:
            raise CatalogError(f"{record.path}: not directly in the run directory {run_path}")
        name = os.path.basename(record.path)
        if name in seen:
            raise CatalogError(f"{record.path}: given twice for run {run_path}")
        seen.add(name)
        _check_uint64(record.inode, "inode", record.path)
        problems = record.problems if isinstance(record, FileRecord) else (record.problem,)
        for problem in problems:
            _check_uint64(problem.train_id, "problem train ID", record.path)
    return run_path


def _split(files: Sequence[FileRecord | UnreadableFile]) -> tuple[list[FileRecord], list[UnreadableFile]]:
    readable = [f for f in files if isinstance(f, FileRecord)]
    return readable, [f for f in files if isinstance(f, UnreadableFile)]


def _proposal_id(session: Session, number: int, instrument: str, cycle: str) -> int:
    """Id of a proposal, created or updated with its instrument and cycle."""
    existing = session.execute(select(Proposal.id).where(Proposal.number == number)).scalar()
    if existing is not None:
        session.execute(update(Proposal).where(Proposal.id == existing)
                        .values(instrument=instrument, cycle=cycle))
        return existing
    statement = _write.insert_ignore(session, Proposal, "number")
    session.execute(statement, [{"number": number, "instrument": instrument, "cycle": cycle}])
    return session.execute(select(Proposal.id).where(Proposal.number == number)).scalar_one()


def _info_proposal_id(session: Session, info: RunInfo) -> int:
    return _proposal_id(session, info.proposal, info.instrument, info.cycle)


def _run_columns(info: RunInfo, run_path: str) -> dict[str, object]:
    return {"number": info.run, "data_category": info.data_category, "path": run_path,
            "first_train": info.first_train, "last_train": info.last_train,
            "n_trains": info.n_trains, "n_suspect_trains": info.n_suspect_trains,
            "format_version": info.format_version,
            "creation_date": info.creation_date, "update_date": info.update_date,
            "sample": info.sample, "run_type": info.run_type,
            "indexed_at": datetime.now(timezone.utc)}


def _refresh_run(session: Session, run_id: int, info: RunInfo, run_path: str) -> None:
    n_files = session.execute(select(func.count()).where(File.run_id == run_id)).scalar_one()
    session.execute(update(Run).where(Run.id == run_id)
                    .values(n_files=n_files, proposal_id=_info_proposal_id(session, info),
                            **_run_columns(info, run_path)))


def replace_run(target: Target, info: RunInfo,
                files: Sequence[FileRecord | UnreadableFile], *,
                changed: Collection[str] = ()) -> None:
    """Write one run and all its files, replacing what was stored for it.

    All or nothing: an error leaves the previous content of the run intact.

    Parameters
    ----------
    target : Catalog or Session
    info : RunInfo
        The run; a stored run with the same path or the same
        (proposal, run, data category) is replaced.
    files : sequence of FileRecord or UnreadableFile
        Every file of the run, directly in ``info.path``.
    changed : collection of str
        Paths (or names) of files that changed while being read: stored,
        and flagged for reading again.

    Raises
    ------
    CatalogError
        Bad input (relative path, file outside the run, value out of range).
    """
    run_path = _validate(info, files)
    readable, unreadable = _split(files)
    changed_names = {os.path.basename(os.fspath(c)) for c in changed}
    with _unit(target, write=True) as session:
        old_keysets: set[int] = set()
        old_value_sets: set[int] = set()
        for key in (run_path, (info.proposal, info.run, info.data_category)):
            found = _find_run(session, key)
            if found is not None:
                refs = _write.delete_files(session, found[0].id, None)
                old_keysets |= refs[0]
                old_value_sets |= refs[1]
                session.delete(found[0])
                session.flush()
        columns = _run_columns(info, run_path)
        run = Run(proposal_id=_info_proposal_id(session, info), n_files=len(files), **columns)
        session.add(run)
        session.flush()
        _write.insert_files(session, run.id, readable, unreadable, changed_names)
        _write.prune_shared(session, old_keysets, old_value_sets)
        mark_stale(session, run.id)


def update_files(target: Target, info: RunInfo,
                 files: Sequence[FileRecord | UnreadableFile], *,
                 changed: Collection[str] = ()) -> None:
    """Add or replace some files of a run, and update the run's facts.

    The run is created if it is not stored yet. Files of the run not in
    *files* are kept. All or nothing, like :func:`replace_run`.

    Parameters
    ----------
    target : Catalog or Session
    info : RunInfo
        The run, with train range and facts recomputed over all its files.
    files : sequence of FileRecord or UnreadableFile
        The new or re-read files.
    changed : collection of str
        Paths (or names) of files that changed while being read.
    """
    run_path = _validate(info, files)
    readable, unreadable = _split(files)
    changed_names = {os.path.basename(os.fspath(c)) for c in changed}
    with _unit(target, write=True) as session:
        found = _find_run(session, run_path)
        if found is None:
            run = Run(proposal_id=_info_proposal_id(session, info), n_files=0,
                      **_run_columns(info, run_path))
            session.add(run)
            session.flush()
            run_id = run.id
        else:
            run_id = found[0].id
        names = [os.path.basename(f.path) for f in files]
        refs = _write.delete_files(session, run_id, names)
        _write.insert_files(session, run_id, readable, unreadable, changed_names)
        _write.prune_shared(session, *refs)
        _refresh_run(session, run_id, info, run_path)
        mark_stale(session, run_id)


def remove_files(target: Target, info: RunInfo, paths: Collection[str]) -> int:
    """Remove files (given by path or name) from a stored run.

    Parameters
    ----------
    target : Catalog or Session
    info : RunInfo
        The run, with train range and facts recomputed without those files.
    paths : collection of str

    Returns
    -------
    int
        Number of files removed (names not stored are ignored).
    """
    with _unit(target, write=True) as session:
        run, _ = _require_run(session, info.path)
        names = sorted({os.path.basename(os.fspath(p)) for p in paths})
        before = run.n_files
        refs = _write.delete_files(session, run.id, names)
        _write.prune_shared(session, *refs)
        _refresh_run(session, run.id, info, run.path)
        mark_stale(session, run.id)
        session.refresh(run)
        return before - run.n_files


def remove_run(target: Target, key: RunKey) -> bool:
    """Remove a run and everything stored about it; False if it was not stored."""
    with _unit(target, write=True) as session:
        found = _find_run(session, key)
        if found is None:
            return False
        refs = _write.delete_files(session, found[0].id, None)
        session.delete(found[0])
        session.flush()
        _write.prune_shared(session, *refs)
        return True


def load_run(target: Target, key: RunKey) -> RunRecord:
    """Return everything stored about a run, as plain records.

    Uses the same small number of SQL statements whatever the number of files.

    Raises
    ------
    CatalogError
        The run is not in the catalogue.
    """
    with _unit(target, write=False) as session:
        run, proposal = _require_run(session, key)
        return load_run_record(session, run, proposal)


def file_stats(target: Target, key: RunKey) -> dict[str, FileStat]:
    """Return ``{file name: (size, mtime, inode)}`` of a stored run.

    Includes unreadable files, so the crawler can tell which files changed
    since they were read. An empty dict if the run is not stored.
    """
    with _unit(target, write=False) as session:
        found = _find_run(session, key)
        if found is None:
            return {}
        rows = session.execute(select(File.name, File.size, File.mtime, File.inode)
                               .where(File.run_id == found[0].id))
        return {name: (size, mtime, inode) for name, size, mtime, inode in rows}


def file_stats_below(target: Target, root: str | os.PathLike[str]) -> dict[str, dict[str, FileStat]]:
    """Return ``{run path: {file name: (size, mtime, inode)}}`` for every run at or below *root*.

    One statement for a whole tree, so checking an unchanged tree costs
    little more than listing it. Runs without files map to an empty dict.
    """
    prefix = os.path.normpath(os.fspath(root))
    pattern = prefix.rstrip(os.sep).replace("\\", "\\\\").replace("%", "\\%") \
        .replace("_", "\\_") + os.sep + "%"
    statement = (select(Run.path, File.name, File.size, File.mtime, File.inode)
                 .outerjoin(File, File.run_id == Run.id)
                 .where((Run.path == prefix) | Run.path.like(pattern, escape="\\")))
    found: dict[str, dict[str, FileStat]] = {}
    with _unit(target, write=False) as session:
        for path, name, size, mtime, inode in session.execute(statement):
            files = found.setdefault(path, {})
            if name is not None:
                files[name] = (size, mtime, inode)
    return found


def list_runs(target: Target, *, proposal: int | None = None) -> list[RunSummary]:
    """Return the stored runs (of one proposal), by proposal, run and category."""
    with _unit(target, write=False) as session:
        statement = (select(Run, Proposal).join(Proposal, Proposal.id == Run.proposal_id)
                     .order_by(Proposal.number, Run.number, Run.data_category))
        if proposal is not None:
            statement = statement.where(Proposal.number == proposal)
        return [RunSummary(run_info(run, prop), run.n_files, run.indexed_at)
                for run, prop in session.execute(statement)]


def list_proposals(target: Target) -> list[ProposalSummary]:
    """Return every stored proposal with its run and file counts, by number."""
    statement = (
        select(Proposal.number, Proposal.instrument, Proposal.cycle, Proposal.last_crawled,
               func.count(Run.id), func.coalesce(func.sum(Run.n_files), 0))
        .outerjoin(Run, Run.proposal_id == Proposal.id)
        .group_by(Proposal.id).order_by(Proposal.number))
    with _unit(target, write=False) as session:
        return [ProposalSummary(number, instrument, cycle, int(n_runs), int(n_files), crawled)
                for number, instrument, cycle, crawled, n_runs, n_files
                in session.execute(statement)]


def record_problem(target: Target, key: RunKey, problem: ProblemRecord, *,
                   path: str | None = None) -> RunProblem:
    """Record a problem the crawler found in a stored run, or in one of its files.

    Parameters
    ----------
    target : Catalog or Session
    key : RunKey
        The run.
    problem : ProblemRecord
    path : str, optional
        The file concerned (path or name); it must be stored in the run.
    """
    with _unit(target, write=True) as session:
        run, _ = _require_run(session, key)
        file_id = None
        if path is not None:
            name = os.path.basename(path)
            file_id = session.execute(select(File.id).where(File.run_id == run.id,
                                                            File.name == name)).scalar()
            if file_id is None:
                raise CatalogError(f"{path}: no such file in catalogued run {run.path}")
        _check_uint64(problem.train_id, "problem train ID", path or run.path)
        session.execute(insert(Problem), [_write.problem_row(run.id, file_id, None, problem)])
        mark_stale(session, run.id)
        return RunProblem(problem, None if path is None else os.path.join(run.path, name))


def replace_run_problems(target: Target, key: RunKey, problems: Sequence[RunProblem]) -> None:
    """Replace every problem recorded for a stored run as a whole.

    These are the problems not read from one file's record: those of
    :func:`record_problem`, and the crawler's checks across a run's files,
    which it recomputes whenever it writes the run.

    Parameters
    ----------
    target : Catalog or Session
    key : RunKey
        The run.
    problems : sequence of RunProblem
        The new problems; ``path`` names the file concerned (stored in the
        run), or is None for the run itself.
    """
    with _unit(target, write=True) as session:
        run, _ = _require_run(session, key)
        session.execute(delete(Problem).where(Problem.run_id == run.id,
                                              Problem.position.is_(None)))
        ids = dict(session.execute(select(File.name, File.id).where(File.run_id == run.id)).all())
        rows = []
        for rp in problems:
            name = None if rp.path is None else os.path.basename(rp.path)
            if name is not None and name not in ids:
                raise CatalogError(f"{rp.path}: no such file in catalogued run {run.path}")
            _check_uint64(rp.problem.train_id, "problem train ID", rp.path or run.path)
            rows.append(_write.problem_row(run.id, ids.get(name), None, rp.problem))
        if rows:
            session.execute(insert(Problem), rows)
        mark_stale(session, run.id)


def mark_crawled(target: Target, proposal: int, *, instrument: str, cycle: str,
                 when: datetime | None = None) -> None:
    """Record when a proposal's directory was crawled (default: now).

    The proposal is created if no run of it is stored yet.
    """
    mark_crawled_many(target, {proposal: (instrument, cycle)}, when=when)


def mark_crawled_many(target: Target, proposals: dict[int, tuple[str, str]], *,
                      when: datetime | None = None) -> None:
    """Like :func:`mark_crawled` for ``{proposal: (instrument, cycle)}``, in one transaction."""
    when = when or datetime.now(timezone.utc)
    with _unit(target, write=True) as session:
        known = set(session.scalars(select(Proposal.number)
                                    .where(Proposal.number.in_(list(proposals)))))
        for proposal in sorted(set(proposals) - known):
            _proposal_id(session, proposal, *proposals[proposal])
        # One statement for all: an unchanged tree's crawl is mostly this write.
        session.execute(update(Proposal).where(Proposal.number.in_(list(proposals)))
                        .values(last_crawled=when))


def last_crawled(target: Target, proposal: int) -> datetime | None:
    """When a proposal was last crawled (UTC), None if never."""
    with _unit(target, write=False) as session:
        return session.execute(select(Proposal.last_crawled)
                               .where(Proposal.number == proposal)).scalar()
