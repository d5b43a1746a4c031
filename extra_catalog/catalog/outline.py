"""A run's outline as one blob: the encoding behind ``run_outlines``.

The outline of a run is what opening it needs: its files with their stat,
train IDs, validity flags, METADATA, source names and sections, legacy
names and problems; not the keys, INDEX arrays and RUN values of each
source (fetched per source when used). It is the :class:`RunRecord` that
``load_run_record(..., details=False)`` builds from six tables, kept in one
msgpack blob so that opening a run is one SELECT and one decode.

Sequence files of one aggregator repeat their source list and often their
METADATA: each distinct list is stored once and shared by the decoded
records, which keeps both the blob and the memory of an opened run small.

Decoding is :mod:`.outlineview`'s. This module is plain Python (no
SQLAlchemy): the reading path imports it. msgpack is safe to decode from a
shared database, unlike pickle.
"""

from __future__ import annotations

import os
from typing import Any

import msgpack

from ..records import FileRecord, ProblemRecord
from .records import RunRecord

__all__ = ["OUTLINE_FORMAT", "OutlineError", "encode_outline"]

#: Version of the encoding; a stored outline of another format is not used
#: (the crawler stores a new one). Format 2 keeps the files as columns, each
#: file's trains, flags, METADATA and problems packed apart and decoded on
#: first use: opening needs only names, stat and sources.
OUTLINE_FORMAT = 2

#: Per-file columns of an outline: one list each, in file order.
FILE_COLUMNS = ("names", "sizes", "mtimes", "inodes", "versions", "lists", "rest")

INFO_FIELDS = ("instrument", "cycle", "proposal", "run", "data_category", "path",
                "first_train", "last_train", "n_trains", "n_suspect_trains", "format_version",
                "creation_date", "update_date", "sample", "run_type")


class OutlineError(ValueError):
    """A blob that is not an outline of the expected format."""


class _Table:
    """Distinct values in first-seen order, and each one's position."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._index: dict[Any, int] = {}

    def add(self, value: Any) -> int:
        found = self._index.get(value)
        if found is None:
            found = self._index[value] = len(self.items)
            self.items.append(value)
        return found


def problem_to_row(p: ProblemRecord) -> list[Any]:
    return [p.check, p.message, p.source, p.dataset, p.train_id,
            [list(pair) for pair in p.details]]


def problem_from_row(row: list[Any]) -> ProblemRecord:
    check, message, source, dataset, train_id, details = row
    return ProblemRecord(check=check, message=message, source=source, dataset=dataset,
                         train_id=train_id, details=tuple(tuple(d) for d in details))


def encode_outline(record: RunRecord) -> bytes:
    """Encode a run's outline (source details, if any, are left out).

    Parameters
    ----------
    record : RunRecord
        As ``load_run`` or ``load_run_outline`` gives it; file paths must
        be directly in ``record.info.path``.

    Returns
    -------
    bytes
        Decode with :func:`decode_outline`.
    """
    sources, source_lists, metadata = _Table(), _Table(), _Table()
    files: dict[str, list[Any]] = {column: [] for column in FILE_COLUMNS}
    legacy = []
    for i, f in enumerate(record.files):
        listed = tuple(sources.add((s.name, s.section)) for s in f.sources)
        for column, value in zip(FILE_COLUMNS, (
                os.path.basename(f.path), f.size, f.mtime, f.inode, f.format_version,
                source_lists.add(listed))):
            files[column].append(value)
        files["rest"].append(msgpack.packb(
            [f.train_ids, f.validity, f.timestamps, metadata.add(tuple(f.metadata)),
             [problem_to_row(p) for p in f.problems]], use_bin_type=True))
        if f.legacy_sources:
            legacy.append([i, [list(pair) for pair in f.legacy_sources]])
    body = {
        "format": OUTLINE_FORMAT,
        "info": [getattr(record.info, name) for name in INFO_FIELDS],
        "indexed_at": None if record.indexed_at is None else record.indexed_at.isoformat(),
        "sources": [list(s) for s in sources.items],
        "source_lists": [list(s) for s in source_lists.items],
        # Each METADATA packed apart: unpacked only for the files whose metadata is read.
        "metadata": [msgpack.packb([list(pair) for pair in m], use_bin_type=True)
                     for m in metadata.items],
        "files": files,
        # Per distinct source list, the positions of the files that have it.
        "list_files": _positions_by_value(files["lists"], len(source_lists.items)),
        "legacy": legacy,
        "unreadable": [[os.path.basename(u.path), u.size, u.mtime, u.inode,
                        problem_to_row(u.problem)] for u in record.unreadable],
        "changed": [os.path.basename(c) for c in record.changed],
        "problems": [[problem_to_row(rp.problem),
                      None if rp.path is None else os.path.basename(rp.path)]
                     for rp in record.problems],
        "trains": _run_trains(record.files),
        "ranges": _train_ranges(record.files),
    }
    return msgpack.packb(body, use_bin_type=True)


def _positions_by_value(values: list[int], n: int) -> list[list[int]]:
    """For each of ``0 .. n-1``, the positions in *values* that hold it."""
    out: list[list[int]] = [[] for _ in range(n)]
    for i, value in enumerate(values):
        out[value].append(i)
    return out


def _train_ranges(files: tuple[FileRecord, ...]) -> list[int] | None:
    """Per file ``lowest, highest, lowest good, highest good`` train ID (``1, 0``: none).

    One flat list, four numbers per file. Selecting a few trains asks each
    file of a source whether it holds them: the ranges answer for most
    files without decoding their trains. None if a file's train IDs or
    flags are not codec blobs.
    """
    from ..fileaccess.codec import CodecError, decode_array

    out = []
    try:
        for f in files:
            ids = decode_array(f.train_ids)
            good = ids[decode_array(f.validity).astype(bool)]
            out.extend(int(x) for arr in (ids, good)
                       for x in ((arr.min(), arr.max()) if len(arr) else (1, 0)))
    except (CodecError, IndexError, ValueError):
        return None
    return out


def _run_trains(files: tuple[FileRecord, ...]) -> list[Any] | None:
    """``[train_ids, valid_train_ids, disjoint]`` as in :class:`RunTrains`.

    None if a file's train IDs or flags are not codec blobs (the catalogue
    stores any bytes it is given): then opening works them out itself.
    """
    # Here only: the catalogue package itself imports neither numpy nor h5py.
    import numpy as np

    from ..fileaccess.codec import CodecError, decode_array, encode_array

    try:
        all_ids = [decode_array(f.train_ids) for f in files]
        flags = [decode_array(f.validity).astype(bool) for f in files]
        valid = [ids[flag] for ids, flag in zip(all_ids, flags)]
    except (CodecError, IndexError, ValueError):
        return None
    empty = np.zeros(0, dtype=np.uint64)
    unions = [encode_array(np.unique(np.concatenate(arrays)).astype(np.uint64)) if arrays
              else encode_array(empty) for arrays in (all_ids, valid)]
    return [*unions, _disjoint(files, all_ids)]


def _disjoint(files: tuple[FileRecord, ...], all_ids: list[Any]) -> bool:
    ranges: dict[str, list[tuple[int, int]]] = {}
    for f, ids in zip(files, all_ids):
        if not len(ids):
            continue
        if not (ids[1:] > ids[:-1]).all():
            return False
        span = (int(ids[0]), int(ids[-1]))
        for name in {s.name for s in f.sources} | {old for old, _ in f.legacy_sources}:
            ranges.setdefault(name, []).append(span)
    for spans in ranges.values():
        spans.sort()
        if any(nxt[0] <= prev[1] for prev, nxt in zip(spans, spans[1:])):
            return False
    return True
