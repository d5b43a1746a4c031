"""Query frames built column by column equal what DataFrame.from_records gives."""

from __future__ import annotations

import decimal
import random
from typing import Any

import pandas as pd
import pytest

from extra_catalog.query.frames import records_frame, uint64_array

#: Values of each kind a database column can hand back.
POOLS: dict[str, list[Any]] = {
    "int": [0, 1, -5, 2**40], "beyond int64": [2**63, 2**64 - 1, 1],
    "int64 bounds": [-(2**63), 2**63 - 1], "float": [1.5, float("nan"), -0.0, 1e300],
    "str": ["a", "", "é", "x y"], "null": [None], "bool": [True, False],
    "decimal": [decimal.Decimal("1.5")], "bytes": [b"x"],
}


def _same(got: Any, expected: Any) -> None:
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert list(got.dtypes) == list(expected.dtypes)
    assert type(got.index) is type(expected.index) and got.index.equals(expected.index)
    assert got.columns.dtype == expected.columns.dtype
    for at in range(expected.shape[1]):
        mine, theirs = got.iloc[:, at], expected.iloc[:, at]
        assert type(mine.array) is type(theirs.array)
        assert [type(v) for v in mine] == [type(v) for v in theirs]


def _random_rows(rng: random.Random) -> tuple[list[str], list[tuple[Any, ...]]]:
    kinds = [rng.sample(list(POOLS), rng.randint(1, 2)) for _ in range(rng.randint(1, 4))]
    rows = [tuple(rng.choice([v for kind in column for v in POOLS[kind]]) for column in kinds)
            for _ in range(rng.choice([0, 1, 2, 5]))]
    return [f"c{i}" for i in range(len(kinds))], rows


@pytest.mark.parametrize("seed", range(4))
def test_frames_equal_from_records(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(300):
        columns, rows = _random_rows(rng)
        _same(records_frame(columns, rows), pd.DataFrame.from_records(rows, columns=columns))


def test_a_query_result_shape() -> None:
    columns = ["proposal", "path", "sample", "n", "train"]
    rows = [(900001, "/a/r0001", None, 1.5, 2**64 - 1), (900002, "/a/r0002", "Lyso", 2.0, None)]
    expected = pd.DataFrame.from_records(rows, columns=columns)
    expected["train"] = pd.array([2**64 - 1, None], dtype="UInt64")
    got = records_frame(columns, rows, {"train": uint64_array([2**64 - 1, None])})
    _same(got, expected)


def test_repeated_column_names_and_no_rows() -> None:
    rows = [(1, 2), (3, 4)]
    _same(records_frame(["a", "a"], rows), pd.DataFrame.from_records(rows, columns=["a", "a"]))
    _same(records_frame(["a", "b"], []), pd.DataFrame.from_records([], columns=["a", "b"]))


def test_column_index_is_not_shared() -> None:
    first = records_frame(["a", "b"], [(1, "x")])
    first.columns.name = "changed"
    assert records_frame(["a", "b"], [(1, "x")]).columns.name is None


@pytest.mark.parametrize("values", [[], [None], [0, None, 2**64 - 1], [2**63, 5]])
def test_uint64_array(values: list[int | None]) -> None:
    got, expected = uint64_array(values), pd.array(values, dtype="UInt64")
    assert got.dtype == expected.dtype
    assert list(got.isna()) == list(expected.isna())
    assert [v for v in got if v is not pd.NA] == [v for v in expected if v is not pd.NA]
