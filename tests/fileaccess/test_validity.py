"""Validity flags: INDEX/flag per version and the 0.5 guess."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extra_catalog.fileaccess.validity import (flags_from_index, guess_validity,
                                               longest_increasing_mask)


def fewest_drops_brute_force(values: list[int]) -> int:
    """Smallest number of values to remove so the rest strictly increase."""
    n = len(values)
    for drop in range(n + 1):
        for removed in combinations(range(n), drop):
            kept = [v for i, v in enumerate(values) if i not in removed]
            if all(a < b for a, b in zip(kept, kept[1:])):
                return drop
    raise AssertionError("unreachable")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 12), max_size=9))
def test_guess_drops_fewest_and_keeps_increasing(values: list[int]) -> None:
    arr = np.array(values, dtype=np.uint64)
    mask = longest_increasing_mask(arr)
    kept = arr[mask]
    assert np.all(kept[1:] > kept[:-1])
    assert len(arr) - mask.sum() == fewest_drops_brute_force(values)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([0, 5, 10**9, 2**63, 2**64 - 2, 2**64 - 1]), max_size=8))
def test_guess_exact_at_uint64_extremes(values: list[int]) -> None:
    arr = np.array(values, dtype=np.uint64)
    mask = longest_increasing_mask(arr)
    assert len(arr) - mask.sum() == fewest_drops_brute_force(values)


def test_guess_on_typical_faults() -> None:
    tids = np.arange(10000, 10010, dtype=np.uint64)
    assert guess_validity(tids).all()
    bogus = tids.copy()
    bogus[5] = 2**64 - 1
    np.testing.assert_array_equal(np.flatnonzero(guess_validity(bogus) == 0), [5])
    swapped = tids.copy()
    swapped[[4, 5]] = swapped[[5, 4]]
    assert (guess_validity(swapped) == 0).sum() == 1
    assert guess_validity(np.zeros(0, np.uint64)).dtype == np.uint8


def test_guess_handles_long_arrays_quickly() -> None:
    rng = np.random.default_rng(0)
    tids = np.arange(200_000, dtype=np.uint64)
    tids[rng.integers(0, len(tids), 50)] = 7  # scattered bad values
    mask = longest_increasing_mask(tids)
    kept = tids[mask]
    assert np.all(kept[1:] > kept[:-1])
    assert mask.sum() >= len(tids) - 50


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
