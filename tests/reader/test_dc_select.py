"""DataCollection selection, union, train iteration and table/timestamp outputs."""

from __future__ import annotations

import numpy as np
import pytest

from extra_catalog.exceptions import MultiRunError, SourceNameError, TrainIDError
from extra_catalog.reader import DataCollection, by_id
from extra_catalog.testing import XGM, Camera, Motor, write_file
from extra_catalog.testing._common import TIMESTAMP_ORIGIN_NS, TRAIN_PERIOD_NS

XGM_NAME = "SA1_XTD2_XGM/DOOCS/MAIN"
CAM_OUT = "CAM/1:daqOutput"
SKIP = (10002, 10005)


def _devices() -> list:
    return [XGM(XGM_NAME), Camera("CAM/1", shape=(2, 2), skip_trains=SKIP), Motor("M/MOTOR/X")]


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    d = tmp_path_factory.mktemp("sel")
    return {
        "run1": write_file(d / "r1.h5", _devices(), n_trains=10, run=1),
        "run1b": write_file(d / "r1b.h5", _devices(), n_trains=10, first_train_id=10010, run=1,
                            sequence=1, run_first_train_id=10000),
        "run2": write_file(d / "r2.h5", _devices(), n_trains=10, first_train_id=20000, run=2),
        "old": write_file(d / "old.h5", _devices(), n_trains=10, first_train_id=30000,
                          format_version="0.5"),
    }


def _open(path) -> DataCollection:
    return DataCollection.from_paths([path], is_single_run=True)


@pytest.fixture(scope="module")
def run(paths) -> DataCollection:
    return _open(paths["run1"])


def test_select_forms(run):
    assert run.select("*XGM*", "beamPosition.*").selection == {
        XGM_NAME: {"beamPosition.ixPos.value", "beamPosition.ixPos.timestamp",
                   "beamPosition.iyPos.value", "beamPosition.iyPos.timestamp"}}
    both = run.select([XGM_NAME, (CAM_OUT, "header.*")])
    assert both.selection == {XGM_NAME: None, CAM_OUT: {"header.frameNumber", "header.trainId"}}
    assert both.all_sources == {XGM_NAME, CAM_OUT}
    by_dict = run.select({"M/MOTOR/X": {"actualPosition"}, XGM_NAME: set()})
    assert by_dict.selection == {"M/MOTOR/X": {"actualPosition.value"}, XGM_NAME: None}
    assert run.select(by_dict).selection == by_dict.selection
    assert run.select(run["M/MOTOR/X", "state"]).selection == {"M/MOTOR/X": {"state.value"}}
    with pytest.raises(ValueError, match="No matches for pattern"):
        run.select("nothing*")
    with pytest.raises(SourceNameError):
        run.select({"nope": None})


def test_deselect(run):
    rest = run.deselect("M/MOTOR/X", "state")
    assert rest.selection["M/MOTOR/X"] == run["M/MOTOR/X"].keys() - {"state.value"}
    assert "CAM/1" in run and "CAM/1" not in run.deselect("CAM/1")
    assert run.deselect("CAM/1").train_ids == run.train_ids


def test_require_all_and_any(run):
    cam = run.select(CAM_OUT, require_all=True)
    assert cam.train_ids == [t for t in range(10000, 10010) if t not in SKIP]
    assert cam[CAM_OUT].train_ids == cam.train_ids
    with pytest.warns(UserWarning, match=r"2/10 \(20%\) trains dropped when filtering by"):
        run.select([XGM_NAME, CAM_OUT], require_all=True, warn_drop_trains_frac=0.1)
    assert run.select([CAM_OUT], require_any=True).train_ids == cam.train_ids
    # a RUN-only selection does not empty the collection
    assert len(run.select(XGM_NAME, require_all=True).train_ids) == 10


def test_train_selection(run):
    assert run.select_trains(by_id[10003:10006]).train_ids == [10003, 10004, 10005]
    assert run[[0, 9]].train_ids == [10000, 10009]
    assert run[np.arange(10) % 2 == 0].train_ids == list(range(10000, 10010, 2))
    sub = run[2:4]
    assert sub[XGM_NAME, "pulseEnergy.photonFlux"].shape == (2,)
    with pytest.raises(TypeError):
        run[1.5]
    parts = list(run.split_trains(parts=3))
    assert [p.train_ids for p in parts] == [[10000, 10001, 10002], [10003, 10004, 10005],
                                            [10006, 10007, 10008, 10009]]
    assert all(p.is_single_run for p in parts)


def test_union_same_run(paths):
    a, b = _open(paths["run1"]), _open(paths["run1b"])
    both = a | b
    assert both.train_ids == list(range(10000, 10020)) and both.is_single_run
    assert both[XGM_NAME].train_ids == both.train_ids
    assert both[CAM_OUT, "header.frameNumber"].shape == (18,)
    assert both.run_metadata()["runNumber"] == 1
    joined = a.select(XGM_NAME)
    joined |= a.select("M/MOTOR/X")
    assert joined.all_sources == {XGM_NAME, "M/MOTOR/X"} and joined.is_single_run


def test_union_of_runs_is_multi_run(paths):
    both = _open(paths["run1"]).union(_open(paths["run2"]))
    assert len(both.train_ids) == 20 and not both.is_single_run
    for call in (both.run_metadata, lambda: both.get_run_value("M/MOTOR/X", "classId"),
                 lambda: both["M/MOTOR/X"].run_values()):
        with pytest.raises(MultiRunError):
            call()
    assert both["M/MOTOR/X"].run_value("classId", allow_multi_run=True) == "MotorClass"
    old = _open(paths["old"])
    assert old.run_metadata() == {"dataFormatVersion": "0.5"}
    assert not old.union(_open(paths["old"])).is_single_run


def test_trains_format(run):
    sel = run.select([(XGM_NAME, "pulseEnergy.photonFlux"), (CAM_OUT, "*")])
    items = list(sel.trains())
    assert [t for t, _ in items] == list(range(10000, 10010))
    tid, data = items[2]
    assert type(tid) is int and set(data) == {XGM_NAME, CAM_OUT}
    assert data[CAM_OUT] == {"metadata": {"source": CAM_OUT, "timestamp.tid": 10002}}
    assert data[XGM_NAME]["pulseEnergy.photonFlux.value"] == \
        sel[XGM_NAME, "pulseEnergy.photonFlux"].ndarray()[2]
    assert data[XGM_NAME]["metadata"] == {"source": XGM_NAME, "timestamp.tid": 10002}
    _, d3 = items[3]
    assert d3[CAM_OUT]["data.image.pixels"].shape == (2, 2)
    assert sel.train_from_id(10003, keep_dims=True)[1][CAM_OUT]["data.image.pixels"].shape == (1, 2, 2)
    assert [t for t, _ in sel.trains(require_all=True)] == \
        [t for t in range(10000, 10010) if t not in SKIP]
    flat = dict(sel.trains(flat_keys=True, train_range=by_id[[10004]]))
    assert (CAM_OUT, "header.frameNumber") in flat[10004]
    # Strings per train are as stored (bytes), as in EXtra-data.
    assert run.train_from_index(-1, devices="M/MOTOR/X")[1]["M/MOTOR/X"]["state.value"] == b"ON"
    with pytest.raises(TrainIDError):
        run.train_from_id(99)


def test_outputs(run):
    df = run.get_dataframe(fields=[XGM_NAME, CAM_OUT])
    assert f"{XGM_NAME}/pulseEnergy.photonFlux" in df.columns
    assert f"{CAM_OUT}/header.frameNumber" in df.columns
    assert not any(c.endswith(".timestamp") for c in df.columns)
    assert np.isnan(df.loc[10002, f"{CAM_OUT}/header.frameNumber"])
    assert any(c.endswith(".timestamp") for c in run.get_dataframe(timestamps=True).columns)
    assert run.get_data_counts(CAM_OUT, "header.frameNumber").loc[10002] == 0
    arr = run.get_array(CAM_OUT, "data.image.pixels", roi=np.s_[0])
    assert arr.shape == (8, 2)


def test_train_timestamps(run, paths):
    ts = run.train_timestamps()
    expected = (TIMESTAMP_ORIGIN_NS + 10000 * TRAIN_PERIOD_NS)
    assert ts.dtype == "datetime64[ns]" and ts[0] == np.datetime64(expected, "ns")
    labelled = run.train_timestamps(labelled=True, euxfel_local_time=True)
    assert str(labelled.dt.tz) == "Europe/Berlin" and labelled.index[0] == 10000
    py = run.train_timestamps(pydatetime=True)
    assert py[1].timestamp() == (expected + TRAIN_PERIOD_NS) / 1e9
    with pytest.raises(ValueError, match="euxfel_local_time"):
        run.train_timestamps(euxfel_local_time=True)
    old = _open(paths["old"])
    assert np.isnat(old.train_timestamps()).all()
    assert old.train_timestamps(pydatetime=True)[0] is None
