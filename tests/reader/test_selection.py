"""Train selectors: every form becomes sorted, unique positions into train_ids."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from extra_catalog.reader import by_id, by_index
from extra_catalog.reader.selection import (
    select_train_ids,
    select_train_positions,
    split_positions,
)

TIDS = np.array([10000, 10001, 10002, 10005, 10006, 10009], dtype=np.uint64)


@st.composite
def train_id_arrays(draw: st.DrawFn, min_size: int = 0) -> np.ndarray:
    """Sorted unique train IDs with gaps, sometimes right below 2**64."""
    base = draw(st.sampled_from([0, 1_000_000, 2**63 - 20, 2**64 - 200]))
    gaps = draw(st.lists(st.integers(1, 4), min_size=min_size, max_size=25))
    ids, tid = [], base
    for gap in gaps:
        ids.append(tid)
        tid += gap
    return np.array(ids, dtype=np.uint64)


def positions(tids: np.ndarray, selector: object) -> list[int]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no selector here should warn
        return select_train_positions(tids, selector).tolist()


# --- by_id / by_index objects ------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "text"),
    [
        (by_id[4::2, 7], "by_id[4::2, 7]"),
        (by_index[...], "by_index[...]"),
        (by_index[:5], "by_index[:5]"),
        (by_index[:], "by_index[:]"),
        (by_id[10:20], "by_id[10:20]"),
        (by_id[[1, 2]], "by_id[[1, 2]]"),
        (by_id[np.array([1, 2])], "by_id[array([1, 2])]"),
        (by_index[3], "by_index[3]"),
    ],
)
def test_repr_is_the_subscript(selector: object, text: str) -> None:
    assert repr(selector) == text


def test_selector_keeps_value() -> None:
    assert by_id[5:9].value == slice(5, 9)
    assert by_index[[1, 2]].value == [1, 2]
    assert by_id(7).value == 7


# --- positional selectors against numpy ---------------------------------------


@given(tids=train_id_arrays(), data=st.data())
def test_slices_match_numpy(tids: np.ndarray, data: st.DataObject) -> None:
    n = len(tids)
    sel = data.draw(st.slices(max(n, 1)) | st.slices(n + 5))
    expected = np.unique(np.arange(n)[sel]).tolist()
    assert positions(tids, sel) == expected
    assert positions(tids, by_index[sel]) == expected


@given(tids=train_id_arrays(min_size=1), data=st.data())
def test_int_positions_match_numpy(tids: np.ndarray, data: st.DataObject) -> None:
    n = len(tids)
    i = data.draw(st.integers(-n, n - 1))
    kind = data.draw(st.sampled_from(["int", "np", "0d", "by_index"]))
    sel = {"int": i, "np": np.int32(i), "0d": np.array(i, dtype=np.int16),
           "by_index": by_index[i]}[kind]
    assert positions(tids, sel) == [np.arange(n)[i]]


@given(tids=train_id_arrays(), i=st.integers(-(2**70), 2**70))
def test_int_out_of_range_raises_index_error(tids: np.ndarray, i: int) -> None:
    n = len(tids)
    if -n <= i < n:
        assert positions(tids, i) == [i % n]
    else:
        with pytest.raises(IndexError, match="out of range"):
            select_train_positions(tids, i)


@given(tids=train_id_arrays(min_size=1), data=st.data())
def test_position_lists_match_numpy_sorted_unique(tids: np.ndarray, data: st.DataObject) -> None:
    n = len(tids)
    idx = data.draw(st.lists(st.integers(-n, n - 1), max_size=12))
    dtype = data.draw(st.sampled_from([np.int8, np.int64, np.intp]))
    expected = np.unique(np.arange(n)[np.array(idx, dtype=np.intp)]).tolist()
    assert positions(tids, idx) == expected
    assert positions(tids, np.array(idx, dtype=dtype)) == expected
    assert positions(tids, by_index[idx]) == expected


@given(tids=train_id_arrays(), data=st.data())
def test_position_list_out_of_range(tids: np.ndarray, data: st.DataObject) -> None:
    n = len(tids)
    bad = data.draw(st.integers(n, n + 2**40) | st.integers(-(2**40), -n - 1))
    with pytest.raises(IndexError, match=f"Train index {bad} is out of range"):
        select_train_positions(tids, [0, bad] if n else [bad])


def test_uint64_positions_too_big() -> None:
    with pytest.raises(IndexError):
        select_train_positions(TIDS, np.array([2**64 - 1], dtype=np.uint64))
    assert positions(TIDS, np.array([5, 0], dtype=np.uint64)) == [0, 5]


@given(tids=train_id_arrays(), data=st.data())
def test_boolean_masks(tids: np.ndarray, data: st.DataObject) -> None:
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=len(tids),
                                       max_size=len(tids))), dtype=bool)
    assert positions(tids, mask) == np.flatnonzero(mask).tolist()
    assert positions(tids, mask.tolist()) == np.flatnonzero(mask).tolist()


def test_boolean_mask_wrong_length() -> None:
    with pytest.raises(ValueError, match=r"Boolean selector length \(8\) must match "
                                         r"train_ids length \(6\)"):
        select_train_positions(TIDS, np.ones(8, dtype=bool))


def test_empty_list_selects_nothing() -> None:
    assert positions(TIDS, []) == []
    assert positions(TIDS, np.array([], dtype=np.int64)) == []


# --- by_id ---------------------------------------------------------------------


def brute_force_id_slice(tids: np.ndarray, start: int | None, stop: int | None,
                         step: int | None) -> list[int]:
    inside = [p for p, t in enumerate(tids.tolist())
              if (start is None or t >= start) and (stop is None or t < stop)]
    return inside[::step or 1]


@given(tids=train_id_arrays(), data=st.data())
def test_id_slices_match_definition(tids: np.ndarray, data: st.DataObject) -> None:
    lo = int(tids[0]) - 5 if len(tids) else 0
    hi = int(tids[-1]) + 5 if len(tids) else 10
    bound = st.none() | st.integers(max(lo, 0), min(hi, 2**64 - 1))
    start, stop = data.draw(bound), data.draw(bound)
    step = data.draw(st.none() | st.integers(1, 4))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        got = select_train_positions(tids, by_id[start:stop:step]).tolist()
    assert got == brute_force_id_slice(tids, start, stop, step)


def test_id_slice_with_missing_bounds_uses_nearest() -> None:
    assert positions(TIDS, by_id[10003:10007]) == [3, 4]
    assert positions(TIDS, by_id[9000:10002]) == [0, 1]
    assert positions(TIDS, by_id[10006:99999]) == [4, 5]
    assert positions(TIDS, by_id[10000::2]) == [0, 2, 4]


def test_id_slice_after_the_run_warns() -> None:
    with pytest.warns(UserWarning, match=r"^Train ID 20000 is after this run \(ends at 10009\)$"):
        assert select_train_positions(TIDS, by_id[20000:]).tolist() == []


def test_id_slice_before_the_run_warns() -> None:
    with pytest.warns(UserWarning, match=r"^Train ID 50 is before this run \(starts at 10000\)$"):
        assert select_train_positions(TIDS, by_id[:50]).tolist() == []


def test_id_slice_touching_the_run_does_not_warn() -> None:
    assert positions(TIDS, by_id[:10000]) == []  # stop is exclusive, but inside the run
    assert positions(TIDS, by_id[10009:]) == [5]


def test_id_slice_on_no_trains_warns() -> None:
    with pytest.warns(UserWarning, match="^Using train ID slice on data with no trains selected$"):
        assert select_train_positions([], by_id[5:]).tolist() == []


@pytest.mark.parametrize("selector", [by_id[:50], by_id[20000:], by_id[[1]], by_id[3]])
@pytest.mark.parametrize("function", [select_train_positions, select_train_ids])
def test_warning_points_at_the_caller(selector: object, function: object) -> None:
    with pytest.warns(UserWarning) as record:
        function(TIDS, selector)  # type: ignore[operator]
    assert record[0].filename == __file__


def test_id_slice_rejects_bad_steps_and_bounds() -> None:
    with pytest.raises(ValueError, match="positive step"):
        select_train_positions(TIDS, by_id[::-1])
    with pytest.raises(TypeError, match="bound must be an integer"):
        select_train_positions(TIDS, by_id[10000.5:])


@given(tids=train_id_arrays(min_size=1), data=st.data())
def test_id_lists_are_sorted_intersections(tids: np.ndarray, data: st.DataObject) -> None:
    present = st.sampled_from(tids.tolist())
    other = st.integers(0, 2**64 - 1)
    ids = data.draw(st.lists(present | other, max_size=10))
    expected = sorted({tids.tolist().index(t) for t in ids if t in tids.tolist()})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = select_train_positions(tids, by_id[ids]).tolist()
        got_arr = select_train_positions(tids, by_id[np.array(ids, dtype=np.uint64)]).tolist()
    assert got == got_arr == expected
    warned = any("Given train IDs not found" in str(w.message) for w in caught)
    assert warned == (bool(ids) and not expected)


def test_single_train_id() -> None:
    assert positions(TIDS, by_id[10005]) == [3]
    assert positions(TIDS, by_id[np.uint64(10005)]) == [3]
    message = r"^Given train IDs not found among 6 trains in collection$"
    with pytest.warns(UserWarning, match=message):
        assert select_train_positions(TIDS, by_id[10003]).tolist() == []


def test_train_ids_near_2_64_keep_every_bit() -> None:
    tids = np.array([2**64 - 3, 2**64 - 2, 2**64 - 1], dtype=np.uint64)
    assert positions(tids, by_id[[2**64 - 2]]) == [1]
    assert positions(tids, by_id[2**64 - 2:]) == [1, 2]
    assert select_train_ids(tids, by_id[[2**64 - 1, -1, 2**70]]).tolist() == [2**64 - 1]


@pytest.mark.parametrize("value", [1.0, np.float64(10005), np.array([10005.0]), [10005.5],
                                   "10005", (10005, 10006), np.array([True])])
def test_by_id_rejects_non_integers(value: object) -> None:
    with pytest.raises(TypeError):
        select_train_positions(TIDS, by_id[value] if not isinstance(value, tuple)
                               else by_id[value[0], value[1]])


# --- xarray masks --------------------------------------------------------------


def test_xarray_mask_keeps_true_train_ids_present() -> None:
    xr = pytest.importorskip("xarray")
    mask = xr.DataArray([True, False, True, True], dims=["trainId"],
                        coords={"trainId": [10001, 10002, 10009, 12345]})
    assert positions(TIDS, mask) == [1, 5]


def test_xarray_mask_must_be_boolean_with_train_ids() -> None:
    xr = pytest.importorskip("xarray")
    floats = xr.DataArray([1.0], dims=["trainId"], coords={"trainId": [10001]})
    with pytest.raises(TypeError, match="^xarray selector must be boolean, got float64$"):
        select_train_positions(TIDS, floats)
    no_tid = xr.DataArray([True], dims=["time"], coords={"time": [0]})
    with pytest.raises(ValueError, match="^xarray selector must have a 'trainId' coordinate$"):
        select_train_positions(TIDS, no_tid)


# --- other types ---------------------------------------------------------------


@pytest.mark.parametrize("selector", ["5", 1.5, {"a": 1}, (1, 2), None, True,
                                      np.float32(2), by_index[by_id[5]], by_index[1, 2],
                                      np.array(True), np.array(2.0), np.array(["a"])])
def test_other_selectors_are_type_errors(selector: object) -> None:
    with pytest.raises(TypeError):
        select_train_positions(TIDS, selector)


def test_train_ids_as_a_list_near_2_64() -> None:
    # np.asarray would make this list float64 and merge the two IDs.
    tids = [2**64 - 2, 2**64 - 1]
    assert select_train_ids(tids, by_id[[2**64 - 1]]).tolist() == [2**64 - 1]
    assert select_train_ids(tids, -1).dtype == np.uint64


def test_unsorted_train_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="sorted"):
        select_train_positions([3, 1, 2], 0)


# --- split_positions -------------------------------------------------------------


@given(n=st.integers(0, 300), parts=st.none() | st.integers(1, 40),
       tpp=st.none() | st.integers(1, 60))
def test_split_covers_everything_once(n: int, parts: int | None, tpp: int | None) -> None:
    if parts is None and tpp is None:
        with pytest.raises(ValueError, match="Either parts or trains_per_part"):
            split_positions(n, parts, tpp)
        return
    chunks = split_positions(n, parts, tpp)
    covered = [i for s in chunks for i in range(n)[s]]
    assert covered == list(range(n))
    sizes = [len(range(n)[s]) for s in chunks]
    assert not sizes or max(sizes) - min(sizes) <= 1
    assert all(sizes)
    if tpp is not None:
        assert all(size <= tpp for size in sizes)
        assert len(chunks) >= min(parts or 0, n)
    else:
        assert len(chunks) == min(parts, n)


def test_split_example_from_the_docs() -> None:
    assert split_positions(11, trains_per_part=8) == [slice(0, 5), slice(5, 11)]


@pytest.mark.parametrize("kwargs", [{"parts": 0}, {"trains_per_part": 0}, {"parts": 2.5},
                                    {"trains_per_part": -1}])
def test_split_rejects_bad_arguments(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="must be a positive integer"):
        split_positions(10, **kwargs)
