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

This module is plain Python (no SQLAlchemy): the reading path imports it.
msgpack is safe to decode from a shared database, unlike pickle.
"""

from __future__ import annotations

import os
from dataclasses import fields
from datetime import datetime
from itertools import repeat
from typing import Any

import msgpack

from ..records import FileRecord, ProblemRecord, SourceRecord
from .records import RunInfo, RunProblem, RunRecord, RunTrains, UnreadableFile

__all__ = ["OUTLINE_FORMAT", "OutlineError", "OutlineFileRecord", "encode_outline",
           "decode_outline"]

#: Version of the encoding; a stored outline of another format is not used
#: (the crawler stores a new one). Format 2 keeps the files as columns, each
#: file's trains, flags, METADATA and problems packed apart and decoded on
#: first use: opening needs only names, stat and sources.
OUTLINE_FORMAT = 2

#: Per-file columns of an outline: one list each, in file order.
_FILE_COLUMNS = ("names", "sizes", "mtimes", "inodes", "versions", "lists", "rest")

_INFO_FIELDS = ("instrument", "cycle", "proposal", "run", "data_category", "path",
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


def _problem_out(p: ProblemRecord) -> list[Any]:
    return [p.check, p.message, p.source, p.dataset, p.train_id,
            [list(pair) for pair in p.details]]


def _problem_in(row: list[Any]) -> ProblemRecord:
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
    files: dict[str, list[Any]] = {column: [] for column in _FILE_COLUMNS}
    legacy = []
    for i, f in enumerate(record.files):
        listed = tuple(sources.add((s.name, s.section)) for s in f.sources)
        for column, value in zip(_FILE_COLUMNS, (
                os.path.basename(f.path), f.size, f.mtime, f.inode, f.format_version,
                source_lists.add(listed))):
            files[column].append(value)
        files["rest"].append(msgpack.packb(
            [f.train_ids, f.validity, f.timestamps, metadata.add(tuple(f.metadata)),
             [_problem_out(p) for p in f.problems]], use_bin_type=True))
        if f.legacy_sources:
            legacy.append([i, [list(pair) for pair in f.legacy_sources]])
    body = {
        "format": OUTLINE_FORMAT,
        "info": [getattr(record.info, name) for name in _INFO_FIELDS],
        "indexed_at": None if record.indexed_at is None else record.indexed_at.isoformat(),
        "sources": [list(s) for s in sources.items],
        "source_lists": [list(s) for s in source_lists.items],
        "metadata": [[list(pair) for pair in m] for m in metadata.items],
        "files": files,
        "legacy": legacy,
        "unreadable": [[os.path.basename(u.path), u.size, u.mtime, u.inode,
                        _problem_out(u.problem)] for u in record.unreadable],
        "changed": [os.path.basename(c) for c in record.changed],
        "problems": [[_problem_out(rp.problem),
                      None if rp.path is None else os.path.basename(rp.path)]
                     for rp in record.problems],
        "trains": _run_trains(record.files),
        "ranges": _train_ranges(record.files),
    }
    return msgpack.packb(body, use_bin_type=True)


def _train_ranges(files: tuple[FileRecord, ...]) -> list[list[int]] | None:
    """Per file ``[lowest, highest, lowest good, highest good]`` train ID (``1, 0``: none).

    Selecting a few trains asks each file of a source whether it holds
    them: the ranges answer for most files without decoding their trains.
    None if a file's train IDs or flags are not codec blobs.
    """
    from ..fileaccess.codec import CodecError, decode_array

    out = []
    try:
        for f in files:
            ids = decode_array(f.train_ids)
            good = ids[decode_array(f.validity).astype(bool)]
            out.append([int(x) for arr in (ids, good)
                        for x in ((arr.min(), arr.max()) if len(arr) else (1, 0))])
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


def decode_outline(blob: bytes) -> RunRecord:
    """The :class:`RunRecord` (name-and-section sources only) of an outline.

    Raises
    ------
    OutlineError
        Not an outline of :data:`OUTLINE_FORMAT`.
    """
    try:
        body = msgpack.unpackb(blob, raw=False, strict_map_key=False)
        if body["format"] != OUTLINE_FORMAT:
            raise OutlineError(f"outline format {body['format']}, expected {OUTLINE_FORMAT}")
        return _decode_body(body)
    except OutlineError:
        raise
    except Exception as exc:  # noqa: BLE001 - any damage means: read the tables
        raise OutlineError(f"not a run outline: {exc}") from exc


class _Deferred:
    """A field of :class:`OutlineFileRecord` decoded with its siblings when first read.

    A non-data descriptor: once decoded, the instance's own value is found
    first (and the dataclass defaults of :class:`FileRecord` never are).
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, inst: Any, owner: type | None = None) -> Any:
        if inst is None:
            return self
        state = inst.__dict__
        tids, validity, timestamps, meta, problems = msgpack.unpackb(state["_rest"])
        # Concurrent first reads decode the same values: the update is harmless.
        state.update(train_ids=tids, validity=validity, timestamps=timestamps,
                     metadata=state["_metadata"].get(meta),
                     problems=tuple(map(_problem_in, problems)) if problems else ())
        return state[self.name]


class OutlineFileRecord(FileRecord):
    """A :class:`FileRecord` decoded from an outline.

    Its train IDs, validity flags, timestamps, METADATA and problems are
    decoded from their packed form when one of them is first read, so
    opening a run builds its records without touching them. Equal to a
    :class:`FileRecord` with the same fields.

    Attributes
    ----------
    train_range : list of int or None
        ``[lowest, highest, lowest good, highest good]`` train ID (``1, 0``
        where there is none), known without decoding the train IDs; not a
        field (not compared, not pickled).
    """

    train_ids = _Deferred()
    validity = _Deferred()
    timestamps = _Deferred()
    metadata = _Deferred()
    problems = _Deferred()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FileRecord):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in _FIELDS)

    __hash__ = FileRecord.__hash__

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as a plain FileRecord: complete, and without the packed state.
        return (FileRecord, tuple(getattr(self, f) for f in _FIELDS))


_FIELDS = tuple(f.name for f in fields(FileRecord))


class _MetadataTable:
    """The distinct METADATA of a run's files, each made a tuple of pairs when first used."""

    __slots__ = ("_raw", "_done")

    def __init__(self, raw: list[list[list[Any]]]) -> None:
        self._raw = raw
        self._done: dict[int, tuple[tuple[str, Any], ...]] = {}

    def get(self, i: int) -> tuple[tuple[str, Any], ...]:
        found = self._done.get(i)
        if found is None:
            # (shared: every file with this METADATA gets the same tuple)
            found = self._done.setdefault(i, tuple(map(tuple, self._raw[i])))
        return found


def _decode_files(body: dict[str, Any], prefix: str) -> list[FileRecord]:
    new, cls, out = object.__new__, OutlineFileRecord, []
    sources = []
    for name, section in body["sources"]:
        # As the frozen __init__ would, but without a setattr call per field;
        # the other fields keep their class-level defaults (empty).
        src = new(SourceRecord)
        src.__dict__.update(name=name, section=section)
        sources.append(src)
    source_lists = [tuple(sources[i] for i in listed) for listed in body["source_lists"]]
    metadata = _MetadataTable(body["metadata"])
    columns = body["files"]
    ranges = body["ranges"] or repeat(None)
    for name, size, mtime, inode, version, listed, rest, train_range in zip(
            *(columns[c] for c in _FILE_COLUMNS), ranges):
        # Not through the frozen __init__, which sets each field with
        # object.__setattr__; the deferred fields come from their descriptors.
        inst = new(cls)
        inst.__dict__.update(path=prefix + name, size=size, mtime=mtime, inode=inode,
                             format_version=version, sources=source_lists[listed],
                             legacy_sources=(), _rest=rest, _metadata=metadata,
                             train_range=train_range)
        out.append(inst)
    for i, pairs in body["legacy"]:
        out[i].__dict__["legacy_sources"] = tuple(map(tuple, pairs))
    return out


def _decode_body(body: dict[str, Any]) -> RunRecord:
    info = RunInfo(**dict(zip(_INFO_FIELDS, body["info"])))
    prefix = os.path.join(info.path, "")
    files = _decode_files(body, prefix)
    columns = body["files"]
    listing = list(zip(columns["names"], columns["sizes"], columns["mtimes"],
                       columns["inodes"], repeat(None)))
    unreadable = tuple(UnreadableFile(prefix + name, size, mtime, inode, _problem_in(p))
                       for name, size, mtime, inode, p in body["unreadable"])
    problems = tuple(RunProblem(_problem_in(p), None if name is None else prefix + name)
                     for p, name in body["problems"])
    indexed_at = body["indexed_at"]
    return RunRecord(info=info, files=tuple(files), unreadable=unreadable,
                     changed=tuple(prefix + c for c in body["changed"]), problems=problems,
                     indexed_at=None if indexed_at is None else datetime.fromisoformat(indexed_at),
                     trains=RunTrains(*body["trains"]) if body["trains"] else None,
                     listing=listing if not body["unreadable"] else None)
