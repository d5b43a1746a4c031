"""stack_data, stack_detector_data and StackView on hand-made train dictionaries."""

from __future__ import annotations

import numpy as np
import pytest

from extra_catalog import stack_data, stack_detector_data
from extra_catalog.stacking import StackView


def _train(modules: dict[int, np.ndarray], pattern: str = "SPB_DET_AGIPD1M-1/DET/{}CH0:xtdf"):
    return {pattern.format(m): {"image.data": a} for m, a in modules.items()}


def test_stack_data_orders_by_numbers_in_names():
    train = {"B_7_0": {"x": np.array([1])}, "A_12_1": {"x": np.array([3])},
             "A_12_0": {"x": np.array([2])}, "skip_99": {"x": np.array([9])}}
    out = stack_data(train, "x", axis=0, xcept=["skip_99"])
    assert out.tolist() == [[1], [2], [3]]
    with pytest.raises(ValueError, match="No data after filtering by 'xcept' argument."):
        stack_data(train, "x", xcept=list(train))
    train["A_12_0"]["x"] = np.array([2.0])
    with pytest.raises(ValueError, match="Arrays have mismatched dtypes"):
        stack_data(train, "x", axis=0, xcept=["skip_99"])


def test_stack_detector_data_fills_missing_modules():
    frames = {m: np.full((2, 4, 3), m + 1, dtype=np.float32) for m in (0, 2)}
    out = stack_detector_data(_train(frames), "image.data", modules=4)
    assert out.shape == (2, 4, 4, 3)  # module axis at -3
    assert (out[:, 0] == 1).all() and (out[:, 2] == 3).all()
    assert np.isnan(out[:, [1, 3]]).all()
    ints = stack_detector_data(_train({1: np.ones((4, 3), np.uint16)}), "image.data",
                               axis=0, modules=2)
    assert ints.tolist() == [[[0] * 3] * 4, [[1] * 3] * 4]
    filled = stack_detector_data(_train(frames), "image.data", modules=4, fillvalue=-1)
    assert (filled[:, 1] == -1).all()


def test_empty_modules_count_as_missing():
    frames = {0: np.ones((2, 4, 3)), 1: np.ones((0, 4, 3))}
    out = stack_detector_data(_train(frames), "image.data", modules=2)
    assert out.shape == (2, 2, 4, 3) and np.isnan(out[:, 1]).all()


def test_stack_detector_data_errors():
    with pytest.raises(ValueError, match="No data"):
        stack_detector_data({}, "image.data")
    with pytest.raises(ValueError, match="doesn't match pattern"):
        stack_detector_data({"SA1_XTD2_XGM/DOOCS/MAIN": {"image.data": np.ones(2)}}, "image.data")
    with pytest.raises(ValueError, match="Arrays have mismatched dtypes"):
        stack_detector_data(_train({0: np.ones(3, np.float32), 1: np.ones(3)}), "image.data")
    with pytest.raises(ValueError, match="Arrays have mismatched shapes"):
        stack_detector_data(_train({0: np.ones((2, 3)), 1: np.ones((2, 4))}), "image.data")
    with pytest.raises(IndexError, match="Module 16 is out of range for a detector with 16"):
        stack_detector_data(_train({16: np.ones(3)}), "image.data")
    with pytest.raises(ValueError):
        stack_detector_data(_train({0: np.ones(3, np.uint16)}), "image.data", fillvalue=np.nan)


def test_jungfrau_pattern_and_numbering():
    train = _train({1: np.ones((4, 3)), 2: np.zeros((4, 3))}, "SPB_IRDA_JF4M/DET/JNGFR{:02d}:x")
    out = stack_detector_data(train, "image.data", axis=0, modules=2,
                              pattern=r"/DET/JNGFR(\d+)", starts_at=1)
    assert out[0].tolist() == np.ones((4, 3)).tolist() and not out[1].any()


def test_stack_view():
    frames = {0: np.arange(12.0).reshape(4, 3), 2: np.ones((4, 3))}
    view = stack_detector_data(_train(frames), "image.data", modules=3, real_array=False)
    assert isinstance(view, StackView)
    assert view.shape == (3, 4, 3) and view.ndim == 3 and view.dtype == np.float64
    assert repr(view) == "<VirtualStack (shape=(3, 4, 3), 2/3 modules, dtype=float64)>"
    np.testing.assert_array_equal(view[0], frames[0])
    assert np.isnan(view[1]).all()
    np.testing.assert_array_equal(view[-1, 1:3], frames[2][1:3])
    part = view[:, :2]
    assert isinstance(part, StackView) and part.shape == (3, 2, 3)
    full = view.asarray()
    np.testing.assert_array_equal(part.asarray(), full[:, :2])
    np.testing.assert_array_equal(view[..., 1].asarray(), full[..., 1])
    np.testing.assert_array_equal(view[:, 1:3, 0].asarray(), full[:, 1:3, 0])
    with pytest.raises(ValueError, match="can only slice a single module or all modules"):
        view[0:2]
    with pytest.raises(IndexError):
        view[5]


def test_stack_view_squeeze():
    view = stack_detector_data(_train({0: np.ones((1, 4, 3))}), "image.data", modules=2,
                               real_array=False)
    assert view.shape == (1, 2, 4, 3)
    assert view.squeeze().shape == (2, 4, 3)
    assert view.squeeze(axis=0).shape == (2, 4, 3)
    with pytest.raises(ValueError, match="cannot squeeze out an axis with size != 1"):
        view.squeeze(axis=1)
    with pytest.raises(np.exceptions.AxisError):
        view.squeeze(axis=7)
