"""Faults seen in real EuXFEL data, injected on purpose.

File-level faults are applied by ``write_file(..., faults=[...])``; passed
to ``write_run``, they hit the first sequence file of the run's first
aggregator. Run-level faults only make sense for ``write_run``. In the
descriptions, ``n`` is the number of trains of the file and ``i = n // 2``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import h5py
import numpy as np

from ._common import MockDataError
from ._h5 import write_dataset
from .context import IndexGroup, WriteContext

__all__ = ["FAULTS", "FILE_FAULTS", "RUN_FAULTS", "BOGUS_TRAIN_ID", "check_faults"]

BOGUS_TRAIN_ID = 2**64 - 1

FILE_FAULTS: dict[str, str] = {
    "train_ids_not_increasing":
        "INDEX/trainId entries i-1 and i are swapped (i = n // 2), so train IDs go down once; "
        "each position's data belongs to the ID stored there. Needs n >= 2.",
    "bogus_train_id":
        "INDEX/trainId[i] (i = n // 2) is 2**64-1 instead of its train ID; the data at that "
        "position is computed for that bogus ID.",
    "zero_train_ids":
        "INDEX/trainId[i] (i = n // 2) is 0: a zero before the last train, not trailing padding.",
    "index_short":
        "every INDEX first/count (or first/last/status) array has n - 1 entries (no padding) "
        "while INDEX/trainId has n (+ pad_train_ids): the last train has no index entry.",
    "index_long":
        "every INDEX first/count (or first/last/status) array has n + pad_train_ids + 2 entries, "
        "two more than INDEX/trainId; the extra entries have count 0.",
    "index_past_end":
        "in the first INSTRUMENT index group (the first CONTROL source if there is none), the "
        "count of the last train with data is increased by 5, so first + count runs 5 entries "
        "past the end of its datasets.",
    "index_gaps":
        "in the first INSTRUMENT index group (first CONTROL source if none), count[i] is "
        "decreased by 1 (i = n // 2; that train must have data), leaving one entry referenced "
        "by no train between trains i and i + 1.",
    "index_overlaps":
        "in the first INSTRUMENT index group (first CONTROL source if none), first[i] is "
        "decreased by 1 and count[i] increased by 1 (i = n // 2 >= 1), so train i's range "
        "overlaps the last entry of the train before it.",
    "control_data_missing":
        "every dataset (value and timestamp) of the first CONTROL source has n - 2 entries "
        "while its INDEX says one entry for each of the n trains: the last two trains' data is "
        "missing. Needs n >= 2.",
    "zero_trains":
        "the file has no trains: INDEX/trainId holds only the pad_train_ids padding zeros and "
        "every dataset is empty (RUN values are still written).",
    "control_timestamps_backwards":
        "in the first CONTROL source, every property's timestamp[i] (i = n // 2 >= 1) is set "
        "to timestamp[i - 1] - 1 s (10**9 ns), so control timestamps go backwards once.",
    "truncated":
        "the complete file is cut to half its size on disk (os.truncate), so it is not "
        "readable HDF5 any more.",
    "not_hdf5":
        "the file holds 4096 pseudo-random bytes (numpy seeded with seed), no HDF5 signature.",
    "not_euxfel":
        "a valid HDF5 file without the EuXFEL layout: only dataset 'data/values' "
        "(10 float64), no METADATA, INDEX or data sections.",
    "no_index_trainid":
        "INDEX/trainId is missing; everything else (flag, timestamp, per-source INDEX) is written.",
    "no_source_list":
        "the METADATA source list is missing: METADATA/dataSources (format >= 1.0) or "
        "METADATA/dataSourceId, root and deviceId (0.5) are not written.",
}

RUN_FAULTS: dict[str, str] = {
    "overlapping_sequences":
        "sequence S00001 of the first aggregator starts 5 trains before S00000 ends, so those "
        "5 train IDs are in both files (the aggregator needs at least two sequences).",
    "source_in_two_aggregators":
        "the first device of the first aggregator is also written into every sequence file of "
        "the second aggregator, for the same trains.",
    "still_writing":
        "the run is still being written: only the first n_trains // 2 trains are on disk, so "
        "the last sequence of each aggregator ends early; continue it with grow_file() and "
        "append_sequence().",
    "hanging_file":
        "an extra <CLASS>-R<run>-DA99-S00000.h5 is a FIFO (named pipe): opening it for reading "
        "blocks until a writer appears, like a file on tape. Readers must open files with a "
        "timeout; never open it without one.",
}

#: Every fault: name -> exactly what is wrong.
FAULTS: dict[str, str] = {**FILE_FAULTS, **RUN_FAULTS}


def check_faults(faults: Iterable[str], allowed: dict[str, str], where: str) -> tuple[str, ...]:
    """Validate fault names, raising MockDataError naming the unknown ones."""
    faults = tuple(faults)
    unknown = [f for f in faults if f not in allowed]
    if unknown:
        raise MockDataError(f"{where}: unknown fault(s) {', '.join(map(repr, unknown))}; "
                            f"known: {', '.join(sorted(allowed))}")
    return faults


def adjust_train_ids(faults: tuple[str, ...], train_ids: np.ndarray) -> np.ndarray:
    """Faults that change which train IDs the file holds (applied before writing)."""
    tids = np.array(train_ids, dtype=np.uint64)
    i = len(tids) // 2
    if "zero_trains" in faults:
        return tids[:0]
    if "train_ids_not_increasing" in faults:
        _need(len(tids) >= 2, "train_ids_not_increasing", "at least 2 trains")
        tids[[i - 1, i]] = tids[[i, i - 1]]
    if "bogus_train_id" in faults and len(tids):
        tids[i] = np.uint64(BOGUS_TRAIN_ID)
    if "zero_train_ids" in faults and len(tids):
        tids[i] = 0
    return tids


def _need(ok: bool, fault: str, what: str) -> None:
    if not ok:
        raise MockDataError(f"fault {fault!r} needs {what}")


def _target_group(groups: list[IndexGroup]) -> IndexGroup:
    for g in groups:
        if g.section == "INSTRUMENT":
            return g
    for g in groups:
        if g.section == "CONTROL" and g.count.any():
            return g
    raise MockDataError("index faults need a source with data in the file")


def apply_index_faults(faults: tuple[str, ...], ctx: WriteContext) -> None:
    """Edit the first/count arrays collected in *ctx* before INDEX is written."""
    n = ctx.n_trains
    i = n // 2
    if "index_past_end" in faults:
        g = _target_group(ctx.index_groups)
        with_data = np.flatnonzero(g.count)
        _need(len(with_data) > 0, "index_past_end", "a train with data")
        g.count[with_data[-1]] += np.uint64(5)
    if "index_gaps" in faults:
        g = _target_group(ctx.index_groups)
        _need(n > 0 and g.count[i] > 0, "index_gaps", f"data in train position {i}")
        g.count[i] -= np.uint64(1)
    if "index_overlaps" in faults:
        g = _target_group(ctx.index_groups)
        _need(i >= 1 and g.first[i] > 0, "index_overlaps", "data before train position i")
        g.first[i] -= np.uint64(1)
        g.count[i] += np.uint64(1)


def index_length(faults: tuple[str, ...], n: int, pad: int) -> int:
    """Length of per-source INDEX arrays given the index faults."""
    if "index_short" in faults:
        return max(n - 1, 0)
    if "index_long" in faults:
        return n + pad + 2
    return n + pad


def apply_open_file_faults(faults: tuple[str, ...], f: h5py.File, ctx: WriteContext) -> None:
    """Faults applied to the written file while it is still open."""
    control = [g for g in ctx.index_groups if g.section == "CONTROL" and g.data_paths]
    n = ctx.n_trains
    if "control_data_missing" in faults:
        _need(bool(control) and n >= 2, "control_data_missing", "a CONTROL source and 2 trains")
        for path in control[0].data_paths:
            data = f[path][: n - 2]
            del f[path]
            write_dataset(f, path, data)
    if "control_timestamps_backwards" in faults:
        _need(bool(control) and n >= 2, "control_timestamps_backwards",
              "a CONTROL source and 2 trains")
        i = n // 2
        for path in control[0].data_paths:
            if path.endswith("/timestamp"):
                ds = f[path]
                ds[i] = ds[i - 1] - np.uint64(1_000_000_000)
    if "no_index_trainid" in faults:
        del f["INDEX/trainId"]


def write_broken_file(faults: tuple[str, ...], path: Path, seed: int) -> bool:
    """Write the faults that replace the whole file; True if one was written."""
    if "not_hdf5" in faults:
        rng = np.random.default_rng(seed)
        data = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
        path.write_bytes(b"NOTHDF5!" + data[8:])
        return True
    if "not_euxfel" in faults:
        with h5py.File(path, "w") as f:
            f["data/values"] = np.arange(10, dtype=np.float64)
        return True
    return False


def apply_disk_faults(faults: tuple[str, ...], path: Path) -> None:
    """Faults applied to the closed file on disk."""
    if "truncated" in faults:
        os.truncate(path, path.stat().st_size // 2)
