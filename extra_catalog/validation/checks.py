"""The checks of one file, as small registered functions.

Each check takes a :class:`FileContext` (the file's record and a reader of
raw datasets) and yields :class:`~extra_catalog.records.ProblemRecord`
objects. The names and messages are EXtra-data's (``train_ids_nonzero``,
``train_ids_order``, ``index_control``, ``index_instrument``,
``control_timestamps_order``), so ``--skip`` lists written for
``extra-data-validate`` keep working; ``train_ids_present`` and
``source_layout`` are ours.

The checks import neither h5py nor SQLAlchemy: the validator and the crawler
both run them, the crawler on a file it has already opened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np

from ..fileaccess.codec import decode_array
from ..fileaccess.sources import convert_old_index
from ..records import FileRecord, ProblemRecord, SourceRecord

__all__ = ["DatasetReader", "FileContext", "FileCheck", "FILE_CHECKS", "READER_NOTES",
           "run_file_checks"]


class DatasetReader(Protocol):
    """Reads raw datasets of one open file (see ``fileaccess.rawview.RawFileView``)."""

    def read(self, dataset: str) -> np.ndarray | None: ...


@dataclass(frozen=True)
class FileContext:
    """What a file check looks at.

    Attributes
    ----------
    record : FileRecord
        The file's record, with the reader's notes in ``problems``.
    reader : DatasetReader
        Raw datasets of the open file.
    """

    record: FileRecord
    reader: DatasetReader

    # Cached: every INDEX group's check needs them.
    @cached_property
    def _raw_train_ids(self) -> np.ndarray:
        raw = self.reader.read("INDEX/trainId")
        return np.zeros(0, np.uint64) if raw is None else np.atleast_1d(raw).astype(np.uint64)

    @cached_property
    def _train_ids(self) -> np.ndarray:
        return decode_array(self.record.train_ids).astype(np.uint64)

    def raw_train_ids(self) -> np.ndarray:
        """``INDEX/trainId`` as stored, padding included."""
        return self._raw_train_ids

    def train_ids(self) -> np.ndarray:
        """Train IDs with the trailing zero padding dropped."""
        return self._train_ids


FileCheck = Callable[[FileContext], Iterable[ProblemRecord]]

#: Check name -> function, in the order they run and are listed.
FILE_CHECKS: dict[str, FileCheck] = {}

#: Reader notes that no check above covers; ``source_layout`` reports them.
READER_NOTES = frozenset({"source_data_missing", "index_group_unlisted", "index_flag_length"})


def _register(func: FileCheck) -> FileCheck:
    FILE_CHECKS[func.__name__] = func
    return func


def run_file_checks(ctx: FileContext, skip: Iterable[str] = ()) -> list[ProblemRecord]:
    """Run every registered file check not in *skip*, in order."""
    skipped = set(skip)
    return [p for name, check in FILE_CHECKS.items() if name not in skipped for p in check(ctx)]


# ---- train IDs -------------------------------------------------------------

@_register
def train_ids_present(ctx: FileContext) -> Iterator[ProblemRecord]:
    """A data file should hold at least one train (ours; EXtra-data has no such check)."""
    if not len(ctx.train_ids()):
        n_raw = len(ctx.raw_train_ids())
        yield ProblemRecord("train_ids_present",
                            f"File has no trains (INDEX/trainId holds {n_raw} entries, all zero)"
                            if n_raw else "File has no trains (INDEX/trainId is empty)",
                            dataset="INDEX/trainId")


@_register
def train_ids_nonzero(ctx: FileContext) -> Iterator[ProblemRecord]:
    """Zero train IDs are only allowed as padding after the last train."""
    raw = ctx.raw_train_ids()
    nonzero = np.flatnonzero(raw)
    if len(nonzero) and (zeros := np.flatnonzero(raw[: nonzero[-1]] == 0)).size:
        yield ProblemRecord("train_ids_nonzero", "Zeroes in trainId index before last train ID",
                            dataset="INDEX/trainId",
                            details=(("positions", _positions(zeros)),))


@_register
def train_ids_order(ctx: FileContext) -> Iterator[ProblemRecord]:
    """Train IDs must increase strictly (zeros are left to ``train_ids_nonzero``)."""
    raw = ctx.raw_train_ids()
    where = np.flatnonzero(raw)  # positions of real IDs, so messages count from 0 as stored
    ids = raw[where]
    bad = np.flatnonzero(ids[1:] <= ids[:-1])
    if bad.size:
        i, j = int(where[bad[0]]), int(where[bad[0] + 1])
        yield ProblemRecord(
            "train_ids_order",
            f"Train IDs are not strictly increasing, e.g. at {i} ({raw[i]} >= {raw[j]})",
            dataset="INDEX/trainId", train_id=int(raw[j]),
            details=(("n_places", int(bad.size)),))


# ---- INDEX -----------------------------------------------------------------

@_register
def index_control(ctx: FileContext) -> Iterator[ProblemRecord]:
    """INDEX of each CONTROL source, and its data long enough for it."""
    for src in ctx.record.sources:
        if src.section == "CONTROL":
            yield from _check_group(ctx, src, "", "index_control")


@_register
def index_instrument(ctx: FileContext) -> Iterator[ProblemRecord]:
    """INDEX of each INSTRUMENT (and auxiliary) source's index groups, and their data."""
    for src in ctx.record.sources:
        if src.section != "CONTROL":
            for group in src.index_groups:
                yield from _check_group(ctx, src, group.name, "index_instrument")


def _check_group(ctx: FileContext, src: SourceRecord, group: str,
                 check: str) -> Iterator[ProblemRecord]:
    ds = f"INDEX/{src.name}/{group}".rstrip("/")
    first, count, problem = _read_index(ctx, ds)
    tids = ctx.train_ids()

    def problem_at(message: str, pos: int | None = None, **details: str) -> ProblemRecord:
        tid = None if pos is None or pos >= len(tids) else int(tids[pos])
        return ProblemRecord(check, message, source=src.name, dataset=ds, train_id=tid,
                             details=tuple(details.items()))

    if problem is not None:
        yield problem_at(problem)
        return
    n_raw = len(ctx.raw_train_ids())
    if first.ndim != 1 or count.ndim != 1:
        yield problem_at("Index first / count are not 1D", first_shape=str(first.shape),
                         count_shape=str(count.shape))
        return
    if len(first) != len(count):
        yield problem_at("Index first & count have different number of entries",
                         first_shape=str(first.shape), count_shape=str(count.shape))
        return
    if len(first) not in (n_raw, len(tids)):
        yield problem_at("Index has wrong number of entries", index_shape=str(first.shape),
                         trainids_shape=f"({n_raw},)")
    # Only the entries of real trains: padding and surplus entries hold nothing.
    first, count = first[: len(tids)], count[: len(tids)]
    yield from (problem_at(*found) for found in _contiguity(first, count))
    yield from _check_data_length(src, group, first, count, tids, check, ds)


def _read_index(ctx: FileContext, ds: str) -> tuple[np.ndarray, np.ndarray, str | None]:
    """first and count of one INDEX group (old first/last/status converted)."""
    first = ctx.reader.read(ds + "/first")
    count = ctx.reader.read(ds + "/count")
    if first is not None and count is None:
        last, status = ctx.reader.read(ds + "/last"), ctx.reader.read(ds + "/status")
        if last is not None and status is not None:
            if not (first.shape == last.shape == status.shape):
                return first, last, "Index first / last / status have different shapes"
            count = convert_old_index(first, last, status)
    if first is None or count is None:
        return np.zeros(0), np.zeros(0), "Index has no first / count datasets"
    return first.astype(np.int64), count.astype(np.int64), None


def _contiguity(first: np.ndarray, count: np.ndarray) -> Iterator[tuple[str, int]]:
    """Each train's data must start where the previous train's ends."""
    if not len(first):
        return
    if first[0] != 0:
        yield ("Index doesn't start at 0", 0)
    ends = first[:-1] + count[:-1]
    gaps = np.flatnonzero(first[1:] > ends)
    if gaps.size:
        i = int(gaps[0])
        yield (f"Gaps ({gaps.size}) in index, e.g. at {i} ({first[i]} + {count[i]} < "
               f"{first[i + 1]})", i)
    overlaps = np.flatnonzero(first[1:] < ends)
    if overlaps.size:
        i = int(overlaps[0])
        yield (f"Overlaps ({overlaps.size}) in index, e.g. at {i} ({first[i]} + {count[i]} > "
               f"{first[i + 1]})", i)


def _check_data_length(src: SourceRecord, group: str, first: np.ndarray, count: np.ndarray,
                       tids: np.ndarray, check: str, index_ds: str) -> Iterator[ProblemRecord]:
    """Datasets must hold every entry the index refers to."""
    has = count > 0
    if not has.any():
        return
    ends = first + count
    end = int(ends[has].max())
    control = src.section == "CONTROL"
    prefix = "" if control else group + "."
    for key in src.keys:
        if not key.name.startswith(prefix) or key.length >= end:
            continue
        pos = int(np.flatnonzero(has & (ends > key.length))[0])
        yield ProblemRecord(
            check, f"Index referring to data ({end}) outside dataset ({key.length})",
            source=src.name, dataset=f"{src.section}/{src.name}/{key.name.replace('.', '/')}",
            train_id=int(tids[pos]) if pos < len(tids) else None,
            details=(("index", index_ds),))
        if control:
            break  # CONTROL keys share one index: one report per source, as EXtra-data


# ---- CONTROL timestamps ----------------------------------------------------

@_register
def control_timestamps_order(ctx: FileContext) -> Iterator[ProblemRecord]:
    """Timestamps of CONTROL data must not go backwards nor be zero before the end."""
    tids = ctx.train_ids()
    for src in ctx.record.sources:
        if src.section != "CONTROL":
            continue
        index = {g.name: g for g in src.index_groups}.get("")
        first = decode_array(index.first) if index is not None else np.zeros(0)
        count = decode_array(index.count) if index is not None else np.zeros(0)
        for key in src.keys:
            if not key.name.endswith(".timestamp"):
                continue
            ds = f"CONTROL/{src.name}/{key.name.replace('.', '/')}"
            ts = ctx.reader.read(ds)
            if ts is None or ts.ndim != 1:
                continue
            for message, pos in _timestamp_problems(ts.astype(np.uint64)):
                yield ProblemRecord("control_timestamps_order", message, source=src.name,
                                    dataset=ds, train_id=_train_of_entry(pos, first, count, tids))


def _timestamp_problems(ts: np.ndarray) -> Iterator[tuple[str, int]]:
    nonzero = np.flatnonzero(ts)
    if not len(nonzero):
        return
    zeros = np.flatnonzero(ts[: nonzero[-1]] == 0)
    if zeros.size:
        yield "Zeroes in Timestamp before last train ID", int(zeros[0])
    real = ts[: nonzero[-1] + 1]
    down = np.flatnonzero((real[1:] < real[:-1]) & (real[1:] != 0))
    if down.size:
        i = int(down[0]) + 1
        yield f"Timestamp is decreasing, e.g. at {i} ({real[i]} < {real[i - 1]})", i


def _train_of_entry(entry: int, first: np.ndarray, count: np.ndarray,
                    tids: np.ndarray) -> int | None:
    """The train whose index range holds data entry *entry*, if any."""
    n = min(len(first), len(count), len(tids))
    holds = np.flatnonzero((first[:n] <= entry) & (entry < first[:n] + count[:n]))
    return int(tids[holds[0]]) if holds.size else None


# ---- what the reader noticed ------------------------------------------------

@_register
def source_layout(ctx: FileContext) -> Iterator[ProblemRecord]:
    """Sources listed without data, data groups not listed, a bad ``INDEX/flag``."""
    yield from (p for p in ctx.record.problems if p.check in READER_NOTES)


def _positions(positions: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(int(p)) for p in positions[:limit])
    return shown + (f" ... ({positions.size} in all)" if positions.size > limit else "")
