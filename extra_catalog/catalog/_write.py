"""Bulk writing of file records, inside a transaction the caller owns.

Each function issues a few multi-row statements whatever the number of
files, so writing a 500-file run costs tens of statements, not thousands.
Shared rows (source names, keysets, RUN value sets) are looked up by name or
digest and only the missing ones inserted, with ``ON CONFLICT DO NOTHING``
so that two crawlers writing different runs at once cannot collide.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from ..exceptions import CatalogError
from ..records import FileRecord, KeyRecord, ProblemRecord, RunValueRecord
from . import _encode as enc
from .models import (
    UNREADABLE_POSITION,
    File,
    FileSource,
    IndexGroup,
    Keyset,
    KeysetKey,
    LegacyName,
    Problem,
    RunValue,
    RunValueSet,
    Source,
)
from .records import UnreadableFile

__all__ = ["bulk_insert", "insert_ignore", "insert_files", "delete_files", "prune_shared", "problem_row"]

# Bound parameters per IN (...) list: far below every backend's limit.
_CHUNK = 500


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def bulk_insert(model: type) -> Any:
    """A multi-row INSERT sending every row in one batch.

    The ORM omits None values per row and so splits a batch into one
    statement per distinct set of non-None columns; ``render_nulls`` keeps
    a single statement.
    """
    return insert(model).execution_options(render_nulls=True)


def insert_ignore(session: Session, model: type, conflict: str) -> Any:
    """An INSERT that skips rows whose *conflict* column already exists."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        raise CatalogError(f"catalogues on {dialect} are not supported: use SQLite or PostgreSQL")
    return dialect_insert(model).on_conflict_do_nothing(index_elements=[conflict])


def _ids_by(session: Session, column: Any, id_column: Any, values: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(values):
        found.update({key: row_id for key, row_id in
                      session.execute(select(column, id_column).where(column.in_(chunk)))})
    return found


def source_ids(session: Session, names: Iterable[str]) -> dict[str, int]:
    """Ids of source names, inserting the names not stored yet."""
    wanted = sorted(set(names))
    ids = _ids_by(session, Source.name, Source.id, wanted)
    missing = [n for n in wanted if n not in ids]
    if missing:
        session.execute(insert_ignore(session, Source, "name"), [{"name": n} for n in missing])
        ids.update(_ids_by(session, Source.name, Source.id, missing))
    return ids


def _shared_ids(session: Session, model: Any, contents: dict[str, Any],
                extra: dict[str, dict[str, Any]]) -> tuple[dict[str, int], list[str]]:
    """Ids of keysets / RUN value sets by digest; returns (ids, digests created here)."""
    wanted = sorted(contents)
    ids = _ids_by(session, model.digest, model.id, wanted)
    missing = [d for d in wanted if d not in ids]
    created: list[str] = []
    if missing:
        rows = [{"digest": d, **extra.get(d, {})} for d in missing]
        statement = insert_ignore(session, model, "digest").returning(model.digest, model.id)
        for digest, new_id in session.execute(statement, rows):
            ids[digest] = new_id
            created.append(digest)
        # Rows another writer committed between our SELECT and INSERT.
        ids.update(_ids_by(session, model.digest, model.id, [d for d in missing if d not in ids]))
    return ids, created


def keyset_ids(session: Session, keysets: dict[str, Sequence[KeyRecord]]) -> dict[str, int]:
    """Ids of keysets by digest, storing the keys of new ones."""
    extra = {d: {"n_keys": len(keys)} for d, keys in keysets.items()}
    ids, created = _shared_ids(session, Keyset, keysets, extra)
    rows = [{"keyset_id": ids[d], "position": i, **enc.key_columns(k)}
            for d in created for i, k in enumerate(keysets[d])]
    if rows:
        session.execute(bulk_insert(KeysetKey), rows)
    return ids


def run_value_set_ids(session: Session,
                      sets: dict[str, Sequence[RunValueRecord]]) -> dict[str, int]:
    """Ids of RUN value sets by digest, storing the values of new ones."""
    ids, created = _shared_ids(session, RunValueSet, sets, {})
    rows = [{"set_id": ids[d], "position": i, **enc.run_value_columns(v)}
            for d in created for i, v in enumerate(sets[d])]
    if rows:
        session.execute(bulk_insert(RunValue), rows)
    return ids


def problem_row(run_id: int, file_id: int | None, position: int | None,
                problem: ProblemRecord) -> dict[str, Any]:
    """Column values of a ``problems`` row."""
    return {"run_id": run_id, "file_id": file_id, "position": position,
            "check": problem.check, "message": problem.message, "source": problem.source,
            "dataset": problem.dataset, "train_id": problem.train_id,
            "details": enc.pairs_to_json(problem.details) if problem.details else None}


def _file_row(run_id: int, record: FileRecord | UnreadableFile, state: str) -> dict[str, Any]:
    name = os.path.basename(record.path)
    aggregator, sequence = enc.parse_file_name(name)
    row: dict[str, Any] = {
        "run_id": run_id, "name": name, "aggregator": aggregator, "sequence": sequence,
        "size": record.size, "mtime": record.mtime, "inode": record.inode, "state": state,
        "format_version": None, "train_ids": None, "validity": None, "timestamps": None,
        "metadata_json": None,
    }
    if isinstance(record, FileRecord):
        row.update(format_version=record.format_version, train_ids=record.train_ids,
                   validity=record.validity, timestamps=record.timestamps,
                   metadata_json=enc.pairs_to_json(record.metadata))
    return row


def insert_files(session: Session, run_id: int, files: Sequence[FileRecord],
                 unreadable: Sequence[UnreadableFile], changed: set[str]) -> None:
    """Insert files and everything in them (sources, keys, index, problems)."""
    rows = [_file_row(run_id, f, "changed" if os.path.basename(f.path) in changed else "ok")
            for f in files]
    rows += [_file_row(run_id, u, "unreadable") for u in unreadable]
    if not rows:
        return
    statement = bulk_insert(File).returning(File.name, File.id)
    file_ids = {name: file_id for name, file_id in session.execute(statement, rows)}
    problems = [problem_row(run_id, file_ids[u.name], UNREADABLE_POSITION, u.problem)
                for u in unreadable]
    _insert_contents(session, run_id, files, file_ids, problems)


def _insert_contents(session: Session, run_id: int, files: Sequence[FileRecord],
                     file_ids: dict[str, int], problems: list[dict[str, Any]]) -> None:
    names = {s.name for f in files for s in f.sources}
    names.update(n for f in files for pair in f.legacy_sources for n in pair)
    sources = source_ids(session, names)
    keysets = {enc.keyset_digest(s.keys): s.keys for f in files for s in f.sources}
    keyset_id = keyset_ids(session, keysets)
    value_sets = {enc.run_values_digest(s.run_values): s.run_values
                  for f in files for s in f.sources if s.run_values}
    value_set_id = run_value_set_ids(session, value_sets)

    fs_rows, groups, legacy = [], [], []
    for record in files:
        file_id = file_ids[os.path.basename(record.path)]
        for pos, src in enumerate(record.sources):
            fs_rows.append({
                "file_id": file_id, "position": pos, "source_id": sources[src.name],
                "section": src.section, "keyset_id": keyset_id[enc.keyset_digest(src.keys)],
                "runvalue_set_id": (value_set_id[enc.run_values_digest(src.run_values)]
                                    if src.run_values else None),
                "key_lengths": enc.encode_lengths([k.length for k in src.keys]),
            })
            groups.append(src.index_groups)
        legacy += [{"file_id": file_id, "position": pos, "legacy_id": sources[old],
                    "target_id": sources[new]}
                   for pos, (old, new) in enumerate(record.legacy_sources)]
        problems += [problem_row(run_id, file_id, pos, p) for pos, p in enumerate(record.problems)]
    if fs_rows:
        # RETURNING the natural key rather than relying on row order, which
        # would make SQLAlchemy fall back to one INSERT per row on SQLite.
        statement = bulk_insert(FileSource).returning(
            FileSource.file_id, FileSource.position, FileSource.id)
        fs_ids = {(file_id, pos): fs_id for file_id, pos, fs_id
                  in session.execute(statement, fs_rows)}
        group_rows = [{"file_source_id": fs_ids[row["file_id"], row["position"]],
                       "position": pos, "name": g.name, "first": g.first, "count": g.count}
                      for row, gs in zip(fs_rows, groups) for pos, g in enumerate(gs)]
        if group_rows:
            session.execute(bulk_insert(IndexGroup), group_rows)
    if legacy:
        session.execute(bulk_insert(LegacyName), legacy)
    if problems:
        session.execute(bulk_insert(Problem), problems)


def delete_files(session: Session, run_id: int, names: Sequence[str] | None) -> tuple[set[int], set[int]]:
    """Delete files of a run (all if *names* is None); rows below cascade.

    Returns
    -------
    (set of int, set of int)
        Keyset and RUN value set ids the deleted files referred to, for
        :func:`prune_shared`.
    """
    condition = File.run_id == run_id
    if names is not None:
        if not names:
            return set(), set()
        condition = condition & File.name.in_(names)
    refs = session.execute(
        select(FileSource.keyset_id, FileSource.runvalue_set_id)
        .join(File, File.id == FileSource.file_id).where(condition)).all()
    session.execute(delete(File).where(condition))
    return ({k for k, _ in refs}, {v for _, v in refs if v is not None})


def prune_shared(session: Session, keysets: set[int], value_sets: set[int]) -> None:
    """Delete the given keysets and RUN value sets if no file refers to them now."""
    for model, column, ids in ((Keyset, FileSource.keyset_id, keysets),
                               (RunValueSet, FileSource.runvalue_set_id, value_sets)):
        for chunk in _chunks(sorted(ids)):
            used = select(column).where(column.in_(chunk))
            session.execute(delete(model).where(model.id.in_(chunk), model.id.not_in(used)))
