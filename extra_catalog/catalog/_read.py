"""Rebuilding run and file records from the catalogue.

:func:`load_run_record` issues a fixed number of SELECTs (one per table)
whatever the number of files, then assembles records in Python.
"""

from __future__ import annotations

import functools
import os
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ..records import FileRecord, ProblemRecord, SourceRecord
from . import _encode as enc
from .models import (
    UNREADABLE_POSITION,
    File,
    FileSource,
    IndexGroup,
    KeysetKey,
    LegacyName,
    Problem,
    Proposal,
    Run,
    RunValue,
    Source,
)
from .records import RunInfo, RunProblem, RunRecord, UnreadableFile
from .sourcerows import assemble_sources

__all__ = ["run_info", "load_run_record", "assemble_sources"]


def run_info(run: Run, proposal: Proposal) -> RunInfo:
    """The :class:`RunInfo` of a run row."""
    return RunInfo(
        instrument=proposal.instrument, cycle=proposal.cycle, proposal=proposal.number,
        run=run.number, data_category=run.data_category, path=run.path,
        first_train=run.first_train, last_train=run.last_train, n_trains=run.n_trains,
        n_suspect_trains=run.n_suspect_trains,
        format_version=run.format_version, creation_date=run.creation_date,
        update_date=run.update_date, sample=run.sample, run_type=run.run_type,
    )


def _problem(row: Any) -> ProblemRecord:
    details = enc.pairs_from_json(row.details) if row.details else ()
    return ProblemRecord(check=row.check_name, message=row.message, source=row.source,
                         dataset=row.dataset, train_id=row.train_id, details=details)


def load_run_record(session: Session, run: Run, proposal: Proposal, *,
                    details: bool = True) -> RunRecord:
    """Load everything stored about *run* into a :class:`RunRecord`.

    Without *details*, each :class:`SourceRecord` has its name and section
    only (no keys, INDEX or RUN values): what opening a run needs, in a
    fraction of the time; :mod:`.partial` loads the rest per source.
    """
    # Plain rows through the Core connection, not ORM objects: opening a
    # 500-file run is dominated by this function.
    files = session.connection().execute(
        select(File.id, File.name, File.size, File.mtime, File.inode, File.state,
               File.format_version, File.train_ids, File.validity, File.timestamps,
               File.metadata_json.label("metadata_json"))
        .where(File.run_id == run.id).order_by(File.name)).all()
    sources = _load_sources(session, run.id) if details else _load_source_names(session, run.id)
    legacy = _load_legacy(session, run.id)
    problems = session.execute(select(Problem.__table__).where(Problem.run_id == run.id)
                               .order_by(Problem.id)).all()
    file_problems: dict[int, list[tuple[int, ProblemRecord]]] = defaultdict(list)
    names = {f.id: f.name for f in files}
    run_problems: list[RunProblem] = []
    unreadable_problem: dict[int, ProblemRecord] = {}
    for row in problems:
        if row.position is None:
            path = None if row.file_id is None else os.path.join(run.path, names[row.file_id])
            run_problems.append(RunProblem(_problem(row), path))
        elif row.position == UNREADABLE_POSITION:
            unreadable_problem[row.file_id] = _problem(row)
        else:
            file_problems[row.file_id].append((row.position, _problem(row)))

    records, unreadable, changed = [], [], []
    # Sequence files of one aggregator often share their METADATA.
    _metadata = functools.lru_cache(maxsize=None)(enc.pairs_from_json)
    run_path = run.path
    for f in files:
        path = os.path.join(run_path, f.name)
        if f.state == "unreadable":
            problem = unreadable_problem.get(f.id) or ProblemRecord(
                "unreadable", "file could not be read")
            unreadable.append(UnreadableFile(path, f.size, f.mtime, f.inode, problem))
            continue
        if f.state == "changed":
            changed.append(path)
        records.append(FileRecord(
            path=path, size=f.size, mtime=f.mtime, inode=f.inode,
            format_version=f.format_version or "", train_ids=f.train_ids or b"",
            validity=f.validity or b"", timestamps=f.timestamps,
            metadata=_metadata(f.metadata_json or "[]"),
            sources=tuple(sources.get(f.id, ())), legacy_sources=tuple(legacy.get(f.id, ())),
            problems=tuple(p for _, p in sorted(file_problems[f.id], key=lambda item: item[0]))
            if f.id in file_problems else (),
        ))
    return RunRecord(info=run_info(run, proposal), files=tuple(records),
                     unreadable=tuple(unreadable), changed=tuple(changed),
                     problems=tuple(run_problems), indexed_at=run.indexed_at)


def _load_source_names(session: Session, run_id: int) -> dict[int, list[SourceRecord]]:
    """Name-and-section SourceRecords of every file of the run, by file id, in file order."""
    rows = session.connection().execute(
        select(FileSource.file_id, FileSource.section, Source.name)
        .join(Source, Source.id == FileSource.source_id)
        .join(File, File.id == FileSource.file_id)
        .where(File.run_id == run_id).order_by(FileSource.file_id, FileSource.position))
    by_file: dict[int, list[SourceRecord]] = defaultdict(list)
    shared: dict[tuple[str, str], SourceRecord] = {}  # the same in every sequence file
    for file_id, section, name in rows.all():
        rec = shared.get((name, section))
        if rec is None:
            rec = shared[(name, section)] = SourceRecord(name=name, section=section)
        by_file[file_id].append(rec)
    return by_file


def _load_sources(session: Session, run_id: int) -> dict[int, list[SourceRecord]]:
    """SourceRecords of every file of the run, by file id, in file order."""
    def in_run(*columns: Any) -> Any:
        return (select(*columns).join(File, File.id == FileSource.file_id)
                .where(File.run_id == run_id))

    # Core statements on the session's connection: no ORM layer in between.
    execute = session.connection().execute
    keyset_rows = execute(select(KeysetKey.__table__)
                          .where(KeysetKey.keyset_id.in_(in_run(FileSource.keyset_id)))
                          .order_by(KeysetKey.keyset_id, KeysetKey.position)).all()
    value_rows = execute(select(RunValue.__table__)
                         .where(RunValue.set_id.in_(in_run(FileSource.runvalue_set_id)))
                         .order_by(RunValue.set_id, RunValue.position)).all()
    group_rows = execute(select(IndexGroup.__table__)
                         .where(IndexGroup.file_source_id.in_(in_run(FileSource.id)))
                         .order_by(IndexGroup.file_source_id, IndexGroup.position)).all()
    statement = (
        select(FileSource.id, FileSource.file_id, FileSource.section, FileSource.keyset_id,
               FileSource.runvalue_set_id, FileSource.key_lengths, Source.name)
        .join(Source, Source.id == FileSource.source_id)
        .join(File, File.id == FileSource.file_id)
        .where(File.run_id == run_id).order_by(FileSource.file_id, FileSource.position))
    return assemble_sources(execute(statement).all(), keyset_rows, value_rows, group_rows)


def _load_legacy(session: Session, run_id: int) -> dict[int, list[tuple[str, str]]]:
    legacy_source, target_source = aliased(Source), aliased(Source)
    rows = session.execute(
        select(LegacyName.file_id, legacy_source.name, target_source.name)
        .join(legacy_source, legacy_source.id == LegacyName.legacy_id)
        .join(target_source, target_source.id == LegacyName.target_id)
        .join(File, File.id == LegacyName.file_id)
        .where(File.run_id == run_id).order_by(LegacyName.file_id, LegacyName.position))
    by_file: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for file_id, old, new in rows:
        by_file[file_id].append((old, new))
    return by_file
