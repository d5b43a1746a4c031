"""The file checks on hand-made arrays: every message of EXtra-data's index checks."""

from __future__ import annotations

import numpy as np
import pytest

from extra_catalog.fileaccess.codec import encode_array
from extra_catalog.records import FileRecord, IndexGroupRecord, KeyRecord, SourceRecord
from extra_catalog.validation.checks import FILE_CHECKS, FileContext, run_file_checks

TIDS = np.arange(10000, 10005, dtype=np.uint64)
INDEX = "INDEX/SRC:out/data"


class Arrays:
    """A DatasetReader over a dict of arrays."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays

    def read(self, dataset: str) -> np.ndarray | None:
        return self.arrays.get(dataset)


def _u64(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.uint64)


def context(first: np.ndarray, count: np.ndarray | None, *, length: int = 5,
            extra: dict[str, np.ndarray] | None = None, raw_tids: np.ndarray = TIDS,
            control: bool = False) -> FileContext:
    """One source with one index group: instrument ``SRC:out/data`` or control ``SRC``."""
    name, group, section = ("SRC", "", "CONTROL") if control else ("SRC:out", "data", "INSTRUMENT")
    index = f"INDEX/{name}/{group}".rstrip("/")
    keys = (KeyRecord("x.value", "<f8", (), length), KeyRecord("x.timestamp", "<u8", (), length)) \
        if control else (KeyRecord("data.x", "<f8", (), length),)
    n = len(TIDS)
    fitted_first = np.resize(first, n) if len(first) else np.zeros(n, np.uint64)
    fitted_count = np.resize(count, n) if count is not None and len(count) else np.zeros(n, np.uint64)
    source = SourceRecord(name, section, (IndexGroupRecord(group, encode_array(fitted_first),
                                                           encode_array(fitted_count)),), keys)
    tids = raw_tids[: np.flatnonzero(raw_tids)[-1] + 1] if raw_tids.any() else raw_tids[:0]
    record = FileRecord("/data/RAW-R0001-DA01-S00000.h5", 0, 0.0, 0, "1.3",
                        encode_array(tids), encode_array(np.ones(len(tids), np.uint8)),
                        sources=(source,))
    arrays = {"INDEX/trainId": raw_tids, f"{index}/first": first}
    if count is not None:
        arrays[f"{index}/count"] = count
    arrays.update(extra or {})
    return FileContext(record, Arrays(arrays))


def messages(ctx: FileContext, skip: tuple[str, ...] = ()) -> list[str]:
    return [p.message for p in run_file_checks(ctx, skip)]


def test_contiguous_index_is_clean() -> None:
    assert messages(context(_u64(0, 1, 2, 3, 4), _u64(1, 1, 1, 1, 1))) == []


def test_index_does_not_start_at_zero() -> None:
    assert messages(context(_u64(1, 2, 3, 4, 5), _u64(1, 1, 1, 1, 0), length=6)) == \
        ["Index doesn't start at 0"]


def test_not_1d() -> None:
    first = np.zeros((5, 2), np.uint64)
    assert messages(context(first, first)) == ["Index first / count are not 1D"]


def test_different_lengths() -> None:
    assert messages(context(_u64(0, 1, 2, 3, 4), _u64(1, 1, 1, 1))) == \
        ["Index first & count have different number of entries"]


def test_missing_count() -> None:
    assert messages(context(_u64(0, 1, 2, 3, 4), None)) == ["Index has no first / count datasets"]


def test_gaps_and_overlaps_counted() -> None:
    ctx = context(_u64(0, 2, 4, 4, 6), _u64(1, 1, 1, 3, 1), length=7)
    assert messages(ctx) == ["Gaps (2) in index, e.g. at 0 (0 + 1 < 2)",
                             "Overlaps (2) in index, e.g. at 2 (4 + 1 > 4)"]


def test_old_first_last_status_index() -> None:
    index = "INDEX/SRC:out/data"
    extra = {f"{index}/last": _u64(0, 1, 2, 3, 4), f"{index}/status": _u64(1, 1, 0, 1, 1)}
    ctx = context(_u64(0, 1, 2, 3, 4), None, extra=extra)
    # Train 2 has no data (status 0) yet the next starts at 3: a gap of one entry.
    assert messages(ctx) == ["Gaps (1) in index, e.g. at 2 (2 + 0 < 3)"]
    extra[f"{index}/status"] = _u64(1, 1, 1)
    assert messages(context(_u64(0, 1, 2, 3, 4), None, extra=extra)) == \
        ["Index first / last / status have different shapes"]


def test_padded_index_and_train_ids_are_normal() -> None:
    raw = np.concatenate([TIDS, np.zeros(3, np.uint64)])
    ctx = context(_u64(0, 1, 2, 3, 4, 0, 0, 0), _u64(1, 1, 1, 1, 1, 0, 0, 0), raw_tids=raw)
    assert messages(ctx) == []


def test_control_data_too_short_reported_once_per_source() -> None:
    ctx = context(_u64(0, 1, 2, 3, 4), _u64(1, 1, 1, 1, 1), length=3, control=True,
                  extra={"CONTROL/SRC/x/timestamp": _u64(1, 2, 3)})
    (problem,) = run_file_checks(ctx)
    assert problem.check == "index_control"
    assert problem.message == "Index referring to data (5) outside dataset (3)"
    assert problem.train_id == 10003 and problem.source == "SRC"


@pytest.mark.parametrize("stamps,expected", [
    ((1, 2, 3, 4, 5), []),
    ((1, 2, 0, 4, 0), ["Zeroes in Timestamp before last train ID"]),
    ((1, 2, 5, 4, 6), ["Timestamp is decreasing, e.g. at 3 (4 < 5)"]),
])
def test_control_timestamps(stamps, expected) -> None:
    ctx = context(_u64(0, 1, 2, 3, 4), _u64(1, 1, 1, 1, 1), control=True,
                  extra={"CONTROL/SRC/x/timestamp": _u64(*stamps)})
    assert messages(ctx) == expected


def test_zero_train_ids_only_before_the_end() -> None:
    raw = _u64(10000, 0, 10002, 10003, 10004)
    problems = [p for p in run_file_checks(context(_u64(0, 1, 2, 3, 4), _u64(1, 1, 1, 1, 1),
                                                   raw_tids=raw))]
    assert [p.message for p in problems] == ["Zeroes in trainId index before last train ID"]
    assert dict(problems[0].details) == {"positions": "1"}


def test_skip_and_registry() -> None:
    ctx = context(_u64(1, 2, 3, 4, 5), _u64(1, 1, 1, 1, 0), length=6)
    assert messages(ctx, skip=("index_instrument",)) == []
    assert list(FILE_CHECKS)[:3] == ["train_ids_present", "train_ids_nonzero", "train_ids_order"]
