"""KeyData and SourceData: exact values from the generator's formulas, shapes, selections."""

from __future__ import annotations

import numpy as np
import pytest

from extra_catalog.exceptions import (MultiRunError, NoDataError, PropertyNameError,
                                      TrainIDError)
from extra_catalog.reader import DataCollection, by_id
from extra_catalog.testing import XGM, Camera, Motor, RunOnlyDevice, XTDFModule, write_file
from extra_catalog.testing._common import name_hash

XGM_NAME = "SA1_XTD2_XGM/DOOCS/MAIN"
CAM = "SPB_CAM/CAM/1"
CAM_OUT = f"{CAM}:daqOutput"
DET = "SPB_DET_AGIPD1M-1/DET/0CH0:xtdf"
SKIP = (10003, 10011)
TIDS = np.arange(10000, 10020, dtype=np.uint64)


def h(name: str) -> int:
    return name_hash(name, 0) % 1000


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> DataCollection:
    """Two sequence files: an XGM, a camera with 2 entries per train (none in SKIP),
    a motor, a RUN-only device and an AGIPD module with 3 frames per train."""
    d = tmp_path_factory.mktemp("kd")
    devices = [XGM(XGM_NAME), Camera(CAM, shape=(3, 4), entries_per_train=2, skip_trains=SKIP),
               Motor("M/MOTOR/X"), RunOnlyDevice("R/MDL/INFO"),
               XTDFModule(DET, frames_per_train=3, frame_shape=(2, 3), skip_trains=(10015,))]
    paths = [write_file(d / f"RAW-R0001-DA01-S{i:05d}.h5", devices, train_ids=TIDS[i * 10:][:10],
                        sequence=i, run_first_train_id=10000) for i in range(2)]
    return DataCollection.from_paths(paths, is_single_run=True)


def test_control_values_and_units(run):
    kd = run[XGM_NAME, "pulseEnergy.photonFlux"]
    expected = (500 + ((7 * TIDS.astype(np.int64) + h(XGM_NAME)) % 1000) * 0.5).astype(np.float32)
    np.testing.assert_array_equal(kd.ndarray(), expected)
    assert kd.shape == (20,) and kd.ndim == 1 and kd.entry_shape == () and kd.dtype == np.float32
    assert kd.nbytes == 80 and kd.size_mb == 80e-6
    assert kd.units == "μJ" and kd.units_name == "microjoule"
    assert run[XGM_NAME, "beamPosition.ixPos"].units == "mm"
    assert run["M/MOTOR/X", "state"].units is None
    assert kd.index_group == "" and kd.hdf5_data_path == f"/CONTROL/{XGM_NAME}/pulseEnergy/photonFlux/value"
    assert kd.attributes()["unitName"] == "joule"
    assert repr(kd) == (f"<extra_data.KeyData source='{XGM_NAME}' "
                        "key='pulseEnergy.photonFlux.value' for 20 trains>")


def test_strings_decoded(run):
    state = run["M/MOTOR/X", "state"].ndarray()
    assert state.dtype == object
    assert state.tolist() == ["MOVING" if t % 10 == 0 else "ON" for t in TIDS.tolist()]


def test_multi_entry_instrument_with_missing_trains(run):
    kd = run[CAM_OUT, "data.image.pixels"]
    with_data = np.array([t for t in TIDS.tolist() if t not in SKIP], dtype=np.uint64)
    assert kd.shape == (2 * len(with_data), 3, 4)
    arr = kd.ndarray()
    coords = kd.train_id_coordinates()
    np.testing.assert_array_equal(coords, np.repeat(with_data, 2))
    e = np.tile([0, 1], len(with_data))
    yx = np.add.outer(np.arange(3), np.arange(4))
    expected = (coords.astype(np.int64)[:, None, None] + h(CAM) + e[:, None, None] + yx) % 4096
    np.testing.assert_array_equal(arr, expected)
    counts = kd.data_counts()
    assert counts.index.tolist() == TIDS.tolist()
    assert counts.loc[10003] == 0 and counts.loc[10004] == 2
    start, stop = kd.train_index_bounds()
    assert (start[3], stop[3]) == (6, 6) and (start[4], stop[4]) == (6, 8)
    assert kd.train_index_bounds(labelled=True).loc[10004].tolist() == [6, 8]


def test_roi_and_out(run):
    kd = run[CAM_OUT, "data.image.pixels"]
    full = kd.ndarray()
    np.testing.assert_array_equal(kd.ndarray(roi=np.s_[1:, 2]), full[:, 1:, 2])
    out = np.zeros((kd.shape[0], 1, 4), dtype=np.uint16)
    kd.ndarray(roi=np.s_[:1], out=out)
    np.testing.assert_array_equal(out, full[:, :1])
    with pytest.raises(ValueError, match="requires output array of shape"):
        kd.ndarray(out=np.zeros((3, 3, 4), dtype=np.uint16))


def test_xtdf_frames_across_files(run):
    kd = run[DET, "image.data"]
    assert kd.entry_shape == (2, 2, 3)
    tids = kd.train_id_coordinates().astype(np.int64)
    assert len(tids) == 19 * 3 and 10015 not in tids
    k = np.tile(np.arange(3), 19)
    g = np.arange(2)[None, :, None, None]
    yx = np.add.outer(np.arange(2), np.arange(3))[None, None]
    base = (7 * tids + 3 * k + h(DET))[:, None, None, None]
    np.testing.assert_array_equal(kd.ndarray(), (base + 1000 * g + yx) % 16384)
    assert kd.source_file_paths and len(kd.source_file_paths) == 2


def test_xarray_and_series(run):
    xa = run[CAM_OUT, "data.image.pixels"].xarray(extra_dims=["y", "x"], roi=np.s_[:, 1:3],
                                                  extra_coords=True)
    assert xa.dims == ("trainId", "y", "x") and xa.name == f"{CAM_OUT}.data.image.pixels"
    assert xa.coords["x"].values.tolist() == [1, 2] and xa.coords["y"].values.tolist() == [0, 1, 2]
    flux = run[XGM_NAME, "pulseEnergy.photonFlux"]
    xf = flux.xarray()
    assert xf.name == f"{XGM_NAME}.pulseEnergy.photonFlux" and xf.attrs["units"] == "μJ"
    s = flux.series()
    assert s.name == f"{XGM_NAME}/pulseEnergy.photonFlux" and s.index.name == "trainId"
    assert s.loc[10005] == flux.ndarray()[5]
    with pytest.raises(TypeError, match="1D"):
        run[CAM_OUT, "data.image.pixels"].series()
    with pytest.raises(ValueError):
        flux.xarray(extra_coords={"nodim": [1, 2]})


def test_counts_and_bounds_have_extra_datas_types(run):
    flux = run[XGM_NAME, "pulseEnergy.photonFlux"]
    for counts in (flux.data_counts(), run[XGM_NAME].data_counts(),
                   run.get_data_counts(XGM_NAME, "pulseEnergy.photonFlux")):
        # pd.testing.assert_series_equal against EXtra-data's result needs these.
        assert counts.dtype == np.int64 and counts.index.dtype == np.uint64
        assert counts.index.name is None
    assert flux.data_counts(labelled=False).dtype == np.uint64
    start, stop = flux.train_index_bounds()
    assert start.dtype == stop.dtype == np.uint64
    bounds = flux.train_index_bounds(labelled=True)
    assert list(bounds.dtypes) == [np.int64, np.int64] and bounds.index.name is None


def test_train_access(run):
    kd = run[CAM_OUT, "header.frameNumber"]
    tid, data = kd.train_from_id(10004)
    assert tid == 10004 and data.tolist() == [20008, 20009]
    assert kd.train_from_index(-1)[1].tolist() == [20038, 20039]
    with pytest.raises(TrainIDError):
        kd.train_from_id(20000)
    flux = run[XGM_NAME, "pulseEnergy.photonFlux"]
    assert np.ndim(flux.train_from_id(10002)[1]) == 0
    assert flux.train_from_id(10002, keep_dims=True)[1].shape == (1,)
    got = list(kd.trains())
    assert [t for t, _ in got] == [t for t in TIDS.tolist() if t not in SKIP]
    with_empty = dict(kd.trains(include_empty=True))
    assert with_empty[10003] is None and len(with_empty) == 20
    assert dict(kd.trains(include_empty=True, keep_dims=True))[10003].shape == (0,)
    with pytest.raises(TypeError):
        iter(kd)


def test_selections(run):
    kd = run[CAM_OUT, "data.image.pixels"]
    sel = kd[by_id[10002:10006]]
    assert sel.train_ids == [10002, 10003, 10004, 10005] and sel.shape[0] == 6
    assert kd.drop_empty_trains().train_ids == [t for t in TIDS.tolist() if t not in SKIP]
    parts = list(kd.split_trains(trains_per_part=8))
    assert [len(p.train_ids) for p in parts] == [6, 7, 7]
    assert [len(p.files) for p in parts] == [1, 2, 1]
    np.testing.assert_array_equal(np.concatenate([p.ndarray() for p in parts]), kd.ndarray())


def test_as_single_value(run):
    assert run[XGM_NAME, "pulseEnergy.numberOfBunches"].as_single_value() == 64
    flux = run[XGM_NAME, "pulseEnergy.photonFlux"]
    with pytest.raises(ValueError, match="not within tolerance"):
        flux.as_single_value()
    assert flux.as_single_value(rtol=1, reduce_by="first") == flux.ndarray()[0]
    with pytest.raises(ValueError, match="not unique"):
        run["M/MOTOR/X", "state"].as_single_value()
    with pytest.raises(TypeError):
        run["M/MOTOR/X", "state"].as_single_value(reduce_by="first")
    with pytest.raises(NoDataError):
        run[CAM_OUT, "data.image.pixels"][by_id[[10003]]].as_single_value()


def test_sourcedata(run):
    sd = run[CAM_OUT]
    assert sd.index_groups == {"data", "header"} and not sd.is_control and sd.is_instrument
    assert "data.image.pixels" in sd and "nope" not in sd
    assert sd.data_counts(labelled=False).tolist() == [0 if t in SKIP else 2 for t in TIDS.tolist()]
    with pytest.raises(ValueError):
        sd.data_counts(index_group="nope")
    assert sd.select_keys("header.*").keys() == {"header.frameNumber", "header.trainId"}
    with pytest.raises(PropertyNameError):
        sd.select_keys("nope*")
    assert sd.drop_empty_trains().train_ids == [t for t in TIDS.tolist() if t not in SKIP]
    assert len(sd.train_id_coordinates()) == 36
    xgm = run[XGM_NAME]
    assert xgm.keys(inc_timestamps=False) >= {"beamPosition.ixPos", "pulseEnergy.photonFlux"}
    assert xgm.select_keys({"beamPosition.ixPos"}).keys() == {"beamPosition.ixPos.value"}
    assert repr(xgm) == f"<extra_data.SourceData source='{XGM_NAME}' for 20 trains>"
    assert xgm[5:7].train_ids == [10005, 10006]
    with pytest.raises(TypeError):
        xgm[1.5]
    assert sd.storage_class is None and sd.aggregator == "DA01" and sd.data_category == "RAW"


def test_run_values(run):
    info = run["R/MDL/INFO"]
    assert info.is_run_only and info.keys() == set()
    assert info.data_counts(labelled=False).tolist() == [0] * 20
    assert info.run_value("setpoint") == pytest.approx(h("R/MDL/INFO") * 0.1)
    assert info.device_class == "RunOnlyDevice"
    assert info.run_values(inc_timestamps=False)["softwareVersion"] == "2.19.0"
    assert "classId.value" in info.run_keys()
    assert run.get_run_value("M/MOTOR/X", "classId") == "MotorClass"
    assert run[XGM_NAME, "pulseEnergy.wavelengthUsed"].run_value() == pytest.approx(
        1 + h(XGM_NAME) * 0.001)
    with pytest.raises(PropertyNameError):
        info.run_value("nope")
    with pytest.raises(ValueError):
        run[CAM_OUT].run_value("x")
    assert run[CAM_OUT].device_class is None
    multi = run.select("R/MDL/INFO")
    multi.is_single_run = False
    with pytest.raises(MultiRunError):
        multi.run_metadata()


def test_dask_array(run):
    kd = run[CAM_OUT, "data.image.pixels"]
    arr = kd.dask_array()
    assert arr.shape == kd.shape
    np.testing.assert_array_equal(arr.compute(), kd.ndarray())
    labelled = kd[by_id[[10003]]].dask_array(labelled=True)
    assert labelled.shape == (0, 3, 4) and labelled.dims[0] == "trainId"
    np.testing.assert_array_equal(run.get_dask_array(CAM_OUT, "header.frameNumber",
                                                     labelled=True).coords["trainId"],
                                  kd.train_id_coordinates())
