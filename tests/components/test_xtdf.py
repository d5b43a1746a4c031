"""Reading AGIPD/LPD/DSSC data: arrays, labels, pulse selection, missing data."""

from __future__ import annotations

import numpy as np
import pytest

from extra_catalog import by_id, by_index
from extra_catalog.components import AGIPD1M, DSSC1M, LPD1M

from ._helpers import FIRST, SHAPE, quiet

DATA = "image.data"


def _module(det, modno, key=DATA):
    """One module's data read with plain KeyData (frames, ...)."""
    return det.data[det.modno_to_source[modno], key].ndarray()


def test_get_array_raw_agipd(open_):
    det = quiet(AGIPD1M, open_("agipd_raw"))
    arr = det.get_array(DATA)
    assert arr.dims == ("module", "train", "pulse", "data_gain", "slow_scan", "fast_scan")
    assert arr.shape == (3, 6, 4, 2) + SHAPE and arr.dtype == np.uint16
    assert list(arr.coords["module"].values) == [0, 1, 2]
    assert list(arr.coords["train"].values) == list(range(FIRST, FIRST + 6))
    assert list(arr.coords["pulse"].values) == [0, 4, 8, 12]  # generated pulse IDs are 4k
    for m in range(3):
        np.testing.assert_array_equal(arr.values[m].reshape((24, 2) + SHAPE), _module(det, m))


def test_get_array_stacked_frames(open_):
    det = quiet(AGIPD1M, open_("agipd_proc"))
    arr = det.get_array(DATA, unstack_pulses=False)
    assert arr.dims == ("module", "train_pulse", "slow_scan", "fast_scan")
    assert arr.dtype == np.float32
    assert list(arr.indexes["train_pulse"].names) == ["train", "pulse"]
    np.testing.assert_array_equal(arr.coords["train"].values,
                                  np.repeat(np.arange(FIRST, FIRST + 6), 4))
    np.testing.assert_array_equal(arr.values[1], _module(det, 1))


def test_raw_lpd_and_dssc_drop_the_extra_axis(open_):
    lpd = quiet(LPD1M, open_("lpd_raw"))
    kd = lpd[DATA]
    assert lpd.data[lpd.modno_to_source[0], DATA].entry_shape == (1,) + SHAPE
    assert kd.shape == (2, 36) + SHAPE and kd.ndim == 4
    assert kd.dimensions == ["module", "train_pulse", "slow_scan", "fast_scan"]
    np.testing.assert_array_equal(kd.ndarray()[0], _module(lpd, 0)[:, 0])
    dssc = quiet(DSSC1M, open_("dssc_raw"))
    assert dssc.get_array(DATA).shape == (2, 6, 5) + SHAPE
    # get_dask_array keeps EXtra-data's quirk: the length-1 axis stays.
    lazy = dssc.get_dask_array(DATA)
    assert lazy.dims == ("module", "train_pulse", "dim_0", "dim_1", "dim_2")
    assert lazy.shape == (2, 30, 1) + SHAPE


def test_roi_and_astype(open_):
    det = quiet(AGIPD1M, open_("agipd_raw"))
    arr = det.get_array(DATA, roi=np.s_[0, 1:3], astype=np.float64)
    assert arr.dims == ("module", "train", "pulse", "slow_scan", "fast_scan")
    assert arr.shape == (3, 6, 4, 2, 3) and arr.dtype == np.float64
    np.testing.assert_array_equal(arr.values[2].reshape(24, 2, 3), _module(det, 2)[:, 0, 1:3])


@pytest.mark.parametrize("pulses, positions", [
    (np.s_[1:3], [1, 2]), (2, [2]), ([0, 3], [0, 3]), (np.s_[::2], [0, 2]),
    (by_index[1:], [1, 2, 3]), (by_id[4:9], [1, 2]), (by_id[[0, 12]], [0, 3]),
])
def test_pulse_selection(open_, pulses, positions):
    det = quiet(AGIPD1M, open_("agipd_proc"))
    arr = det.get_array(DATA, pulses=pulses)
    assert list(arr.coords["pulse"].values) == [4 * p for p in positions]
    full = _module(det, 0).reshape((6, 4) + SHAPE)
    np.testing.assert_array_equal(arr.values[0], full[:, positions])
    kd = det[DATA].select_pulses(pulses)
    assert kd.shape == (3, 6 * len(positions)) + SHAPE
    np.testing.assert_array_equal(kd.pulse_id_coordinates(),
                                  np.tile(4 * np.array(positions, dtype=np.uint64), 6))
    np.testing.assert_array_equal(kd.dask_array().compute(), kd.ndarray())


@pytest.mark.parametrize("pulses", [by_id[:0], by_index[:0], [], np.s_[10:], by_id[999:]])
def test_empty_pulse_selection(open_, pulses):
    det = quiet(AGIPD1M, open_("agipd_proc"))
    assert det.get_array(DATA, pulses=pulses).shape == (3, 0, 0) + SHAPE
    assert det.get_array(DATA, pulses=pulses, unstack_pulses=False).shape == (3, 0) + SHAPE


def test_no_trains(open_):
    det = quiet(AGIPD1M, open_("agipd_proc")).select_trains(np.s_[:0])
    assert det.get_array(DATA).shape == (3, 0, 0) + SHAPE
    assert det[DATA].dask_array().shape == (3, 0) + SHAPE
    assert list(det.trains()) == [] and list(det.split_trains(2)) == []


@pytest.mark.parametrize("pulses, exc, msg", [
    (np.s_[-1:], NotImplementedError, "Negative pulse indices not supported"),
    (by_index[[-1]], NotImplementedError, "Negative pulse indices not supported"),
    (by_id[[-1]], ValueError, "Pulse IDs cannot be negative"),
    (np.s_[::-1], ValueError, "Pulse selection slice must have positive step"),
    (np.s_[0.5:], TypeError, "Pulse selection slice must use integers or None"),
])
def test_bad_pulse_selection(open_, pulses, exc, msg):
    det = quiet(AGIPD1M, open_("agipd_proc"))
    with pytest.raises(exc, match=msg):
        det.get_array(DATA, pulses=pulses)


def test_subtrain_index(open_):
    det = quiet(AGIPD1M, open_("agipd_proc"))
    arr = det.get_array(DATA, subtrain_index="cellId")
    assert arr.dims[:3] == ("module", "train", "cell")
    assert list(arr.coords["cell"].values) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="subtrain_index must be 'pulseId' or 'cellId'"):
        det.get_array(DATA, subtrain_index="trainId")


def test_missing_trains_and_modules_are_filled(open_):
    det = quiet(AGIPD1M, open_("gaps"))
    kd = det[DATA]
    raw = kd.ndarray()
    assert raw.shape == (3, 24, 2) + SHAPE
    avail = kd.data_availability()
    expected = np.ones((3, 6), dtype=bool)
    expected[1, 2:4] = False  # module 3 lacks trains 10002-10003
    expected[2, [0, 5]] = False  # module 5 lacks trains 10000 and 10005
    np.testing.assert_array_equal(avail, np.repeat(expected, 4, axis=1))
    assert (raw[~avail] == 0).all() and (raw[avail] != 0).any()
    np.testing.assert_array_equal(raw[1][avail[1]], _module(det, 3))
    filled = kd.ndarray(fill_value=7)
    assert (filled[~avail] == 7).all()
    gaps = kd.ndarray(module_gaps=True)
    assert gaps.shape == (16, 24, 2) + SHAPE
    np.testing.assert_array_equal(gaps[[0, 3, 5]], raw)
    assert not gaps[[1, 2, 4, 6]].any()
    assert det.data_availability(module_gaps=True).shape == (16, 24)
    as_float = det.get_array(DATA, astype=np.float32)
    assert np.isnan(as_float.values[2, 0]).all()


def test_fill_value_must_fit_the_dtype(open_):
    det = quiet(AGIPD1M, open_("agipd_raw"))
    with pytest.raises(ValueError):
        det[DATA].ndarray(fill_value=np.nan)
    with pytest.raises(ValueError):
        det[DATA].dask_array(fill_value=np.nan)


def test_out_argument(open_):
    det = quiet(AGIPD1M, open_("agipd_raw"))
    out = np.zeros((3, 24, 2) + SHAPE, dtype=np.uint16)
    assert det[DATA].ndarray(out=out) is out
    with pytest.raises(ValueError, match="requires output array of shape"):
        det[DATA].ndarray(out=np.zeros((3, 24), dtype=np.uint16))


def test_per_train_keys(open_):
    det = quiet(AGIPD1M, open_("gaps"))
    arr = det.get_array("header.pulseCount")
    assert arr.dims == ("module", "trainId")
    assert arr.values.tolist() == [[4] * 6, [4, 4, 0, 0, 4, 4], [0, 4, 4, 4, 4, 0]]
    lazy = det.get_dask_array("header.pulseCount")
    np.testing.assert_array_equal(lazy.values, arr.values)


def test_get_dask_array_labels(open_):
    det = quiet(AGIPD1M, open_("agipd_proc"))
    lazy = det.get_dask_array(DATA)
    assert lazy.dims == ("module", "train_pulse", "dim_0", "dim_1")
    assert list(lazy.indexes["train_pulse"].names) == ["trainId", "pulseId"]
    np.testing.assert_array_equal(lazy.values, det[DATA].ndarray())
    by_cell = det.get_dask_array(DATA, subtrain_index="cellId")
    assert list(by_cell.indexes["train_pulse"].names) == ["trainId", "cellId"]


def test_dask_chunks_hold_whole_trains(open_):
    det = quiet(AGIPD1M, open_("gaps"))
    arr = det[DATA].dask_array(frames_per_chunk=8)
    assert arr.chunks[1] == (8, 8, 8)
    np.testing.assert_array_equal(arr.compute(), det[DATA].ndarray())
    np.testing.assert_array_equal(det[DATA].dask_array(fill_value=3).compute(),
                                  det[DATA].ndarray(fill_value=3))


def test_select_and_split_trains(open_):
    det = quiet(AGIPD1M, open_("agipd_proc"))
    sel = det.select_trains(by_id[FIRST + 1:FIRST + 4])
    assert [int(t) for t in sel.train_ids] == [FIRST + 1, FIRST + 2, FIRST + 3]
    np.testing.assert_array_equal(sel[DATA].ndarray(), det[DATA].ndarray()[:, 4:16])
    assert [len(p.train_ids) for p in det.split_trains(4)] == [1, 2, 1, 2]
    assert [len(p.train_ids) for p in det.split_trains(frames_per_part=10)] == [2, 2, 2]
    with pytest.raises(ValueError, match="One of parts, trains_per_part, frames_per_part"):
        list(det.split_trains())
    parts = [kd.ndarray() for kd in det[DATA].split_trains(trains_per_part=4)]
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), det[DATA].ndarray())
    assert [len(p.train_ids) for p in det[DATA][np.s_[:2]].split_trains(parts=2)] == [1, 1]


def test_varying_frames_per_train(open_):
    det = quiet(AGIPD1M, open_("varying"))
    assert det.frame_counts.tolist() == [4, 4, 4, 2, 2, 2]
    with pytest.raises(ValueError, match="Varying number of frames per train"):
        det.frames_per_train
    # Parts close before exceeding 7 frames; a part always has a whole train.
    assert [len(p.train_ids) for p in det.split_trains(frames_per_part=7)] == [1, 1, 2, 2]
    assert [len(p.train_ids) for p in det.split_trains(frames_per_part=1)] == [1] * 6
    kd = det[DATA]
    assert kd.shape == (2, 18, 2) + SHAPE
    np.testing.assert_array_equal(kd.ndarray()[1], _module(det, 1))
    np.testing.assert_array_equal(kd.dask_array(frames_per_chunk=5).compute(), kd.ndarray())
    arr = det.get_array(DATA, pulses=np.s_[1:3])
    assert arr.shape == (2, 6, 2, 2) + SHAPE
    unstacked = det.get_array(DATA, astype=np.float32)
    assert unstacked.shape == (2, 6, 4, 2) + SHAPE
    assert np.isnan(unstacked.values[:, 3:, 2:]).all()  # trains with 2 frames lack pulses 8, 12


def test_trains_iteration(open_):
    det = quiet(AGIPD1M, open_("agipd_proc"))
    tid, data = next(iter(det.trains(pulses=np.s_[:2])))
    assert tid == FIRST
    arr = data[DATA]
    assert arr.dims == ("module", "train", "pulse", "slow_scan", "fast_scan")
    assert arr.shape == (3, 1, 2) + SHAPE
    np.testing.assert_array_equal(arr.values[:, 0], det[DATA].ndarray()[:, :2])
    assert data["header.pulseCount"].dims == ("module",)
    assert data["header.pulseCount"].values.tolist() == [4, 4, 4]


def test_trains_require_all(open_):
    det = quiet(AGIPD1M, open_("gaps"))
    assert [t for t, _ in det.trains()] == [FIRST + 1, FIRST + 4]
    every = dict(det.trains(require_all=False))
    assert list(every) == list(range(FIRST, FIRST + 6))
    assert list(every[FIRST + 2][DATA].coords["module"].values) == [0, 5]


def test_masked_data(open_):
    det = quiet(AGIPD1M, open_("agipd_proc"))
    masked = det.masked_data()
    assert repr(masked) == "<Masked 'image.data' detector data for 3 modules>"
    data, mask = det[DATA].ndarray(), det["image.mask"].ndarray()
    assert mask.any()
    expected = np.where(mask != 0, np.nan, data)
    np.testing.assert_array_equal(masked.ndarray(), expected)
    np.testing.assert_array_equal(masked.dask_array().compute(), expected)
    np.testing.assert_array_equal(det.masked_data(mask_bits=[2, 4]).ndarray(), data)
    zeroed = det.masked_data(masked_value=0).select_pulses(np.s_[:1]).xarray()
    np.testing.assert_array_equal(zeroed.values, np.where(mask != 0, 0, data)[:, ::4])
    roi = det.masked_data().ndarray(roi=np.s_[1:3])
    np.testing.assert_array_equal(roi, expected[..., 1:3, :])


def test_masked_data_needs_a_mask(open_):
    det = quiet(AGIPD1M, open_("agipd_raw"))
    with pytest.raises(RuntimeError, match=r"This data doesn't include a mask \(image.mask\)"):
        det.masked_data()


def test_lpd_parallel_gain(open_):
    det = quiet(LPD1M, open_("lpd_raw"), parallel_gain=True)
    arr = det.get_array(DATA)
    assert arr.dims == ("module", "train", "gain", "pulse", "slow_scan", "fast_scan")
    assert arr.shape == (2, 6, 3, 2) + SHAPE
    assert list(arr.coords["gain"].values) == [0, 1, 2]
    assert list(arr.coords["pulse"].values) == [0, 4]  # the first third's IDs
    np.testing.assert_array_equal(arr.values[0].reshape((36,) + SHAPE), _module(det, 0)[:, 0])
    one = det.get_array(DATA, pulses=np.s_[1:2])
    assert one.shape == (2, 6, 3, 1) + SHAPE
    np.testing.assert_array_equal(one.values[:, :, :, 0], arr.values[:, :, :, 1])
    with pytest.raises(ValueError, match="parallel_gain=True needs the frames in each train "
                       "to be divisible by 3"):
        quiet(LPD1M, open_("lpd_odd"), parallel_gain=True)
    assert quiet(LPD1M, open_("lpd_odd")).frames_per_train == 4
