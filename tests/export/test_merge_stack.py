"""Pure helpers: merging runs in train order, stacking detector modules."""

from __future__ import annotations

import numpy as np
import pytest

from extra_catalog.export._stacking import find_detector_modules, stack_modules
from extra_catalog.export.trains import merge_runs


def _run(name: str, tids: list[int], opened: list[str]):
    def factory():
        opened.append(name)
        return iter([(t, {name: {}}) for t in tids])
    return (tids[0], tids[-1], factory)


def test_merge_runs_orders_trains_and_opens_runs_only_when_needed():
    opened: list[str] = []
    runs = [_run("late", [30, 31], opened), _run("a", [1, 2, 5], opened),
            _run("b", [3, 4, 6], opened)]
    stream = merge_runs(runs)
    assert next(stream)[0] == 1
    assert opened == ["a", "b"]  # overlapping runs are merged; the later run waits
    rest = [(tid, next(iter(d))) for tid, d in stream]
    assert [t for t, _ in rest] == [2, 3, 4, 5, 6, 30, 31]
    assert opened == ["a", "b", "late"]


def test_stack_modules_fills_missing_and_empty_modules():
    a = np.ones((2, 3, 4), dtype=np.float32)
    stacked = stack_modules({0: a, 2: 2 * a, 3: np.zeros((0, 3, 4), np.float32)}, 4)
    assert stacked.shape == (2, 4, 3, 4) and stacked.dtype == np.float32
    np.testing.assert_array_equal(stacked[:, 0], a)
    np.testing.assert_array_equal(stacked[:, 2], 2 * a)
    assert np.isnan(stacked[:, 1]).all() and np.isnan(stacked[:, 3]).all()
    ints = stack_modules({1: np.ones((3, 4), np.uint16)}, 2)
    assert ints.shape == (2, 3, 4) and not ints[0].any()


def test_stack_modules_refuses_mismatched_modules():
    with pytest.raises(ValueError, match="modules disagree"):
        stack_modules({0: np.ones((2, 3, 4)), 1: np.ones((2, 3, 5))}, 2)


def test_find_detector_modules():
    found = find_detector_modules({"SPB_DET_AGIPD1M-1/DET/3CH0:xtdf",
                                   "SPB_DET_AGIPD1M-1/DET/10CH0:xtdf", "SA1_XTD2_XGM/DOOCS/MAIN"})
    assert found.name == "SPB_DET_AGIPD1M-1" and found.n_modules == 16
    assert found.sources == {"SPB_DET_AGIPD1M-1/DET/3CH0:xtdf": 3,
                             "SPB_DET_AGIPD1M-1/DET/10CH0:xtdf": 10}
    assert found.combined_source == "SPB_DET_AGIPD1M-1/DET/APPEND"
    assert find_detector_modules({"HED_DET_AGIPD500K2G/CORR/0CH0:output"}).n_modules == 8
    assert find_detector_modules({"SA1_XTD2_XGM/DOOCS/MAIN"}) is None


def test_resolve_endpoint():
    from extra_catalog.export.server import resolve_endpoint

    assert resolve_endpoint(4545) == "tcp://*:4545"
    assert resolve_endpoint("0") == "tcp://*:0"
    assert resolve_endpoint("tcp://127.0.0.1:4545") == "tcp://127.0.0.1:4545"
    # Without an InfiniBand interface, every interface (as EXtra-data does).
    assert resolve_endpoint(4545, use_infiniband=True) in (
        "tcp://*:4545", f"tcp://{_ib0_address()}:4545")


def _ib0_address() -> str | None:
    from extra_catalog.export.server import _interface_ipv4

    return _interface_ipv4("ib0")
