"""Pure helpers: merging runs in train order, stacking detector modules."""

from __future__ import annotations

import numpy as np

from extra_catalog.export._stacking import DetectorModules, append_modules, find_detector_modules
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


def test_append_modules_stacks_image_keys_and_keeps_the_others():
    frames = np.ones((2, 3, 4), dtype=np.float32)
    train = {
        "X/CORR/0CH0:output": {"metadata": {"source": "X/CORR/0CH0:output"}},
        "X/CORR/2CH0:output": {"image.data": frames, "image.cellId": np.arange(2),
                               "metadata": {"source": "X/CORR/2CH0:output"}},
        "XGM": {"v": 1},
    }
    detector = DetectorModules("X", 4, {"X/CORR/0CH0:output": 0, "X/CORR/2CH0:output": 2})
    append_modules(train, detector)
    assert set(train) == {"XGM", "X/DET/APPEND"}
    combined = train["X/DET/APPEND"]
    assert combined["image.data"].shape == (2, 4, 3, 4)
    np.testing.assert_array_equal(combined["image.data"][:, 2], frames)
    assert np.isnan(combined["image.data"][:, [0, 1, 3]]).all()
    np.testing.assert_array_equal(combined["image.cellId"], np.arange(2))
    assert combined["metadata"] == {"source": "X/DET/APPEND"}


def test_find_detector_modules():
    found = find_detector_modules({"SPB_DET_AGIPD1M-1/DET/3CH0:xtdf",
                                   "SPB_DET_AGIPD1M-1/DET/10CH0:xtdf", "SA1_XTD2_XGM/DOOCS/MAIN"})
    assert found.name == "SPB_DET_AGIPD1M-1" and found.n_modules == 16
    assert found.sources == {"SPB_DET_AGIPD1M-1/DET/3CH0:xtdf": 3,
                             "SPB_DET_AGIPD1M-1/DET/10CH0:xtdf": 10}
    assert found.combined_source == "SPB_DET_AGIPD1M-1/DET/APPEND"
    assert find_detector_modules({"HED_DET_AGIPD500K2G/CORR/0CH0:output"}).n_modules == 8
    both = find_detector_modules({"FXE_DET_LPD1M-1/DET/0CH0:xtdf",
                                  "FXE_DET_LPD1M-1/CORR/0CH0:output",
                                  "FXE_DET_LPD1M-1/CORR/1CH0:output"})
    assert set(both.sources) == {"FXE_DET_LPD1M-1/CORR/0CH0:output",
                                 "FXE_DET_LPD1M-1/CORR/1CH0:output"}  # corrected preferred
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
