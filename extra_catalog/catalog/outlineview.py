"""Decoding a run's outline (see :mod:`.outline`): what opening needs, now or on demand.

:func:`read_outline` gives an :class:`Outline`: the run's facts, its file
listing and its source names are ready at once; which files hold a source
is worked out when first asked, the record of a file
(:class:`OutlineFileRecord`) is made when first asked for, and its train
IDs, flags, METADATA and problems are decoded when first read. A run
opened from its outline thus builds per-file objects only for the files
that are used. :func:`decode_outline` gives the whole :class:`RunRecord`.

Plain Python and msgpack: the reading path imports this without SQLAlchemy.
"""

from __future__ import annotations

import os
import threading
from dataclasses import fields
from datetime import datetime
from functools import cached_property
from itertools import repeat
from collections.abc import Sequence
from typing import Any

import msgpack

from ..records import FileRecord, SourceRecord, trusted
from .outline import FILE_COLUMNS, INFO_FIELDS, OUTLINE_FORMAT, OutlineError, problem_from_row
from .records import RunInfo, RunProblem, RunRecord, RunTrains, UnreadableFile

__all__ = ["Outline", "OutlineFileRecord", "read_outline", "decode_outline"]

#: ``(name, size, mtime, inode, None)``: a file as the directory listing gives it.
ListingRow = tuple[str, int, float, int, None]


def read_outline(blob: bytes) -> Outline:
    """The :class:`Outline` of a stored blob.

    Raises
    ------
    OutlineError
        Not an outline of :data:`~extra_catalog.catalog.outline.OUTLINE_FORMAT`.
    """
    try:
        body = msgpack.unpackb(blob, raw=False, strict_map_key=False)
        if body["format"] != OUTLINE_FORMAT:
            raise OutlineError(f"outline format {body['format']}, expected {OUTLINE_FORMAT}")
        return Outline(body)
    except OutlineError:
        raise
    except Exception as exc:  # noqa: BLE001 - any damage means: read the tables
        raise OutlineError(f"not a run outline: {exc}") from exc


def decode_outline(blob: bytes) -> RunRecord:
    """The :class:`RunRecord` (name-and-section sources only) of an outline.

    Raises
    ------
    OutlineError
        Not an outline of the expected format.
    """
    outline = read_outline(blob)
    try:
        return outline.to_run_record()
    except Exception as exc:  # noqa: BLE001 - damage found while making the records
        raise OutlineError(f"not a run outline: {exc}") from exc


class Outline:
    """A decoded run outline; file records are made when first asked for.

    Attributes
    ----------
    info : RunInfo
    names : list of str
        File names, in order (the records' order).
    listing : list of tuple or None
        ``(name, size, mtime, inode, None)`` per file, as
        :func:`~extra_catalog.index.scan.list_run_files` lists an unchanged
        directory; None if the run has unreadable files (never unchanged).
    trains : RunTrains or None
    has_legacy : bool
        Whether any file has legacy source names.
    """

    def __init__(self, body: dict[str, Any]) -> None:
        self.info = RunInfo(**dict(zip(INFO_FIELDS, body["info"])))
        self._prefix = os.path.join(self.info.path, "")
        self._body = body
        columns = body["files"]
        self._columns = [columns[c] for c in FILE_COLUMNS]
        self.names: list[str] = columns["names"]
        self.listing: list[ListingRow] | None = None if body["unreadable"] else list(
            zip(self.names, columns["sizes"], columns["mtimes"], columns["inodes"],
                repeat(None)))
        self.trains = RunTrains(*body["trains"]) if body["trains"] else None
        self._legacy = {i: tuple(map(tuple, pairs)) for i, pairs in body["legacy"]}
        self.has_legacy = bool(self._legacy)
        self._ranges = body["ranges"]
        self._records: list[OutlineFileRecord | None] = [None] * len(self.names)
        self._source_records: dict[int, SourceRecord] = {}  # made for the records made
        self._source_tuples: dict[int, tuple[SourceRecord, ...]] = {}
        self._positions: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.names)

    def stats(self) -> dict[str, tuple[int, float, int]]:
        """``{file name: (size, mtime, inode)}`` of the readable files."""
        _, sizes, mtimes, inodes = self._columns[:4]
        return dict(zip(self.names, zip(sizes, mtimes, inodes)))

    # ---- sources ---------------------------------------------------------------------

    def _source_tuple(self, listed: int) -> tuple[SourceRecord, ...]:
        """The sources of one distinct list, as a tuple shared by the files that have it."""
        found = self._source_tuples.get(listed)
        if found is None:
            records, names = self._source_records, self._body["sources"]
            for i in self._body["source_lists"][listed]:
                if i not in records:  # (name and section only; the rest empty)
                    records[i] = trusted(SourceRecord, name=names[i][0], section=names[i][1])
            found = tuple(records[i] for i in self._body["source_lists"][listed])
            found = self._source_tuples.setdefault(listed, found)
        return found

    def source_sections(self) -> dict[str, str]:
        """``{source name: section}`` of every source (legacy names not included).

        Made once and shared: not to be modified.
        """
        return self._sections

    @cached_property
    def _sections(self) -> dict[str, str]:
        return dict(self._body["sources"])

    def files_holding(self, source: str) -> list[str]:
        """Names of the files that hold *source* (not as a legacy name)."""
        return [self.names[i] for i in self.positions_of(source)]

    def positions_of(self, source: str) -> list[int]:
        """Positions of the files holding *source*, in file order (empty if none).

        Worked out for one source at a time, when first asked for, and
        shared: not to be modified. Legacy names are not included (see
        :attr:`has_legacy`).
        """
        found = self._positions.get(source)
        if found is None:
            lists = self._lists_holding(source)
            by_list = self._body["list_files"]
            found = by_list[lists[0]] if len(lists) == 1 else sorted(
                i for listed in lists for i in by_list[listed])
            self._positions[source] = found
        return found

    def _lists_holding(self, source: str) -> list[int]:
        # One source at a time: a scan of the (few hundred) names and the
        # (few dozen) distinct lists costs less than indexing them all.
        wanted = {i for i, (name, _) in enumerate(self._body["sources"]) if name == source}
        return [listed for listed, members in enumerate(self._body["source_lists"])
                if not wanted.isdisjoint(members)]

    # ---- records ---------------------------------------------------------------------

    def records(self, positions: Sequence[int]) -> list[FileRecord]:
        """The records of the files at *positions* (each made once, then shared)."""
        made = self._records
        missing = [i for i in positions if made[i] is None]
        if missing:
            with self._lock:
                self._make([i for i in missing if made[i] is None])
        return [made[i] for i in positions]  # type: ignore[misc]

    @cached_property
    def all_records(self) -> tuple[FileRecord, ...]:
        """Every file's record, in order."""
        return tuple(self.records(range(len(self))))

    def _make(self, positions: Sequence[int]) -> None:
        prefix, tuples, metadata = self._prefix, self._source_tuples, self._metadata
        for listed in {self._columns[5][i] for i in positions}:
            self._source_tuple(listed)
        names, sizes, mtimes, inodes, versions, lists, rests = self._columns
        ranges, legacy = self._ranges, self._legacy
        for i in positions:
            # The deferred fields come from their descriptors when first read.
            self._records[i] = trusted(
                OutlineFileRecord, path=prefix + names[i], size=sizes[i], mtime=mtimes[i],
                inode=inodes[i], format_version=versions[i], sources=tuples[lists[i]],
                legacy_sources=legacy.get(i, ()), _rest=rests[i], _metadata=metadata,
                train_range=None if ranges is None else ranges[4 * i:4 * i + 4])

    @cached_property
    def _metadata(self) -> _MetadataTable:
        return _MetadataTable(self._body["metadata"])

    def to_run_record(self) -> RunRecord:
        """The whole run as a :class:`RunRecord` (records made for every file)."""
        body, prefix = self._body, self._prefix
        unreadable = tuple(UnreadableFile(prefix + name, size, mtime, inode,
                                          problem_from_row(p))
                           for name, size, mtime, inode, p in body["unreadable"])
        problems = tuple(RunProblem(problem_from_row(p), None if name is None else prefix + name)
                         for p, name in body["problems"])
        indexed_at = body["indexed_at"]
        return RunRecord(
            info=self.info, files=self.all_records, unreadable=unreadable,
            changed=tuple(prefix + c for c in body["changed"]), problems=problems,
            indexed_at=None if indexed_at is None else datetime.fromisoformat(indexed_at),
            trains=self.trains, listing=self.listing)


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
                     problems=tuple(map(problem_from_row, problems)) if problems else ())
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
    """The distinct METADATA of a run's files, each unpacked when first used."""

    __slots__ = ("_raw", "_done")

    def __init__(self, raw: list[bytes]) -> None:
        self._raw = raw
        self._done: dict[int, tuple[tuple[str, Any], ...]] = {}

    def get(self, i: int) -> tuple[tuple[str, Any], ...]:
        found = self._done.get(i)
        if found is None:
            # (shared: every file with this METADATA gets the same tuple)
            pairs = msgpack.unpackb(self._raw[i], raw=False)
            found = self._done.setdefault(i, tuple(map(tuple, pairs)))
        return found
