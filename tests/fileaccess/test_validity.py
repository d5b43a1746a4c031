"""Validity flags: INDEX/flag per version and the 0.5 guess.

The 0.5 guess follows EXtra-data's rule (checked side by side on random
train ID sequences when this was written).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extra_catalog.fileaccess.validity import flags_from_index, guess_validity


def test_guess_on_typical_faults() -> None:
    tids = np.arange(10000, 10010, dtype=np.uint64)
    assert guess_validity(tids).all()
    bogus = tids.copy()
    bogus[5] = 2**64 - 1
    np.testing.assert_array_equal(np.flatnonzero(guess_validity(bogus) == 0), [5])
    swapped = tids.copy()
    swapped[[4, 5]] = swapped[[5, 4]]
    # A tie: EXtra-data drops the later train of the pair.
    np.testing.assert_array_equal(np.flatnonzero(guess_validity(swapped) == 0), [5])
    zero = tids.copy()
    zero[3] = 0
    np.testing.assert_array_equal(np.flatnonzero(guess_validity(zero) == 0), [3])
    assert guess_validity(np.zeros(0, np.uint64)).dtype == np.uint8


def test_guess_drops_the_smaller_side_of_a_jump_back() -> None:
    # After ID 30 the IDs restart at 12: three earlier IDs (15, 20, 30) conflict
    # with 12, but only two later ones (12, 14) with 30, so those two go.
    tids = np.array([10, 15, 20, 30, 12, 14, 31, 32], dtype=np.uint64)
    np.testing.assert_array_equal(guess_validity(tids), [1, 1, 1, 1, 0, 0, 1, 1])
    tids = np.array([10, 40, 11, 12, 13, 14], dtype=np.uint64)
    np.testing.assert_array_equal(guess_validity(tids), [1, 0, 1, 1, 1, 1])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=12))
def test_guess_keeps_every_increasing_id_and_only_drops_at_jumps(values: list[int]) -> None:
    arr = np.array(values, dtype=np.uint64)
    good = guess_validity(arr).astype(bool)
    if np.all(arr[1:] > arr[:-1]):
        assert good.all()
    # An ID is only dropped if it is out of order with some other ID.
    for i in np.flatnonzero(~good):
        assert (arr[:i] >= arr[i]).any() or (arr[i + 1:] <= arr[i]).any()


def test_guess_handles_long_arrays() -> None:
    rng = np.random.default_rng(0)
    tids = np.arange(200_000, dtype=np.uint64)
    tids[rng.integers(1, len(tids), 50)] = 7  # scattered bad values
    good = guess_validity(tids).astype(bool)
    kept = tids[good]
    assert np.all(kept[1:] > kept[:-1])
    assert good.sum() >= len(tids) - 50


@pytest.mark.parametrize("version", ["1.0", "1.2", "1.3"])
def test_flag_one_means_good(version: str) -> None:
    flag = np.array([1, 0, 1, 1], dtype=np.int32)
    np.testing.assert_array_equal(flags_from_index(flag, version, 4), [1, 0, 1, 1])


def test_flag_inverted_in_1_1() -> None:
    # 1.1 stores which source gave the train ID; 0 is the time server (good).
    flag = np.array([0, 1, 0, 2], dtype=np.int32)
    np.testing.assert_array_equal(flags_from_index(flag, "1.1", 4), [1, 0, 1, 0])


def test_flag_cut_or_padded_to_train_count() -> None:
    flag = np.array([1, 0, 1, 0, 0], dtype=np.int32)
    np.testing.assert_array_equal(flags_from_index(flag, "1.0", 3), [1, 0, 1])
    np.testing.assert_array_equal(flags_from_index(flag[:2], "1.0", 4), [1, 0, 1, 1])


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_reading_a_1_1_file_warns_as_extra_data(tmp_path, version: str) -> None:
    import warnings

    from extra_catalog.fileaccess import FileAccess
    from extra_catalog.testing import write_run

    paths = write_run(tmp_path / f"r{version}", format_version=version, n_trains=3,
                      n_control_sources=1, suspect_train_ids=(10001,))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fa = FileAccess(str(paths[0]))
    texts = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert (any("not fully supported for data format version 1.1" in t for t in texts)
            == (version == "1.1"))
    # The flag is inverted in 1.1, so train 10001 is suspect in every version.
    assert fa.validity_flag.tolist() == [True, False, True]
