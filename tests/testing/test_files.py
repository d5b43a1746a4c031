"""write_file: layout per format version, INDEX variants, values, determinism."""

from __future__ import annotations

import filecmp

import h5py
import numpy as np
import pytest

from extra_catalog.testing import (FORMAT_VERSIONS, TIMESTAMP_ORIGIN_NS, XGM, AuxiliarySource,
                                   Camera, ControlDevice, JUNGFRAUModule, MockDataError, Motor,
                                   RunOnlyDevice, XTDFModule, read_recipe, write_file)
from extra_catalog.testing.devices.base import name_hash

XGM_NAME = "SA1_XTD2_XGM/DOOCS/MAIN"
MOTOR = "SPB_IRU_MOTORS/MOTOR/X"
AGIPD = "SPB_DET_AGIPD1M-1/DET/0CH0"


def _strings(ds: h5py.Dataset) -> list[str]:
    return [s.decode() for s in ds[:] if s]


def _devices() -> list:
    return [XGM(XGM_NAME), Motor(MOTOR), Camera("SPB_CAM/CAM/SIDE", shape=(6, 8)),
            XTDFModule(AGIPD, frames_per_train=3, frame_shape=(4, 4))]


@pytest.mark.parametrize("version", FORMAT_VERSIONS)
def test_layout_per_version(tmp_path, version):
    path = write_file(tmp_path / "f.h5", _devices(), format_version=version, n_trains=6,
                      proposal=1234, run=7, sequence=2, run_type="SASE", sample="Lysozyme")
    with h5py.File(path, "r") as f:
        base = "METADATA" if version == "0.5" else "METADATA/dataSources"
        ids = _strings(f[f"{base}/dataSourceId"])
        roots = [s.decode() for s in f[f"{base}/root"][:]]
        assert f[f"{base}/dataSourceId"].shape[0] % 16 == 0  # padded with empty strings
        assert roots[-1] == ""
        real = [i for i in ids if not i.startswith("Karabo_TimerServer")]
        assert real[:2] == [f"CONTROL/{XGM_NAME}", f"INSTRUMENT/{XGM_NAME}:output/data"]
        assert f"INSTRUMENT/{AGIPD}:xtdf/trailer" in real
        assert ("Karabo_TimerServer/Karabo_TimeServer" in ids) == (version == "1.1")
        assert f["INDEX/trainId"][:].tolist() == list(range(10000, 10006))
        assert ("INDEX/flag" in f) == ("INDEX/timestamp" in f) == (version != "0.5")
        assert ("INDEX/origin" in f) == (version in ("1.2", "1.3"))
        if version == "0.5":
            assert "METADATA/dataFormatVersion" not in f
            assert "METADATA/dataSources" not in f
        else:
            assert f["METADATA/dataFormatVersion"][0] == version.encode()
            assert f["METADATA/proposalNumber"][0] == 1234
            assert f["METADATA/runNumber"][0] == 7
            assert f["METADATA/sequenceNumber"][0] == 2
            assert f["METADATA/runType"][0] == b"SASE"
            assert f["METADATA/sample"][0] == b"Lysozyme"
            assert f["METADATA/creationDate"][0] == b"20260101T001640Z"
            ts = f["INDEX/timestamp"][:]
            assert ts[0] == TIMESTAMP_ORIGIN_NS + 10000 * 100_000_000


@pytest.mark.parametrize("version,good,bad", [("1.0", 1, 0), ("1.1", 0, 1), ("1.2", 1, 0),
                                              ("1.3", 1, 0)])
def test_suspect_flags_stored_as_the_version_does(tmp_path, version, good, bad):
    path = write_file(tmp_path / "f.h5", [Motor(MOTOR)], format_version=version, n_trains=5,
                      suspect_train_ids=[10002])
    with h5py.File(path, "r") as f:
        assert f["INDEX/flag"][:].tolist() == [good, good, bad, good, good]
        if "INDEX/origin" in f:
            assert f["INDEX/origin"][:].tolist() == [-1, -1, 0, -1, -1]


def test_suspect_trains_refused_in_0_5(tmp_path):
    with pytest.raises(MockDataError, match="0.5"):
        write_file(tmp_path / "f.h5", [Motor(MOTOR)], format_version="0.5",
                   suspect_train_ids=[10002])


def test_bad_parameters_raise_project_errors(tmp_path):
    with pytest.raises(MockDataError, match="format_version '2.0'"):
        write_file(tmp_path / "f.h5", [Motor(MOTOR)], format_version="2.0")
    with pytest.raises(MockDataError, match="unknown fault"):
        write_file(tmp_path / "f.h5", [Motor(MOTOR)], faults=["gremlins"])
    with pytest.raises(MockDataError, match="written twice"):
        write_file(tmp_path / "f.h5", [Motor(MOTOR), Motor(MOTOR)])
    with pytest.raises(MockDataError, match="needs format_version 1.3"):
        write_file(tmp_path / "f.h5", [AuxiliarySource("X")], format_version="1.2")


def test_padding_and_counts(tmp_path):
    path = write_file(tmp_path / "f.h5", _devices(), n_trains=4, pad_train_ids=3)
    with h5py.File(path, "r") as f:
        assert f["INDEX/trainId"][:].tolist() == [10000, 10001, 10002, 10003, 0, 0, 0]
        assert f["INDEX/flag"].shape == (7,)
        img = f[f"INDEX/{AGIPD}:xtdf/image"]
        assert img["count"][:].tolist() == [3, 3, 3, 3, 0, 0, 0]
        assert img["first"][:].tolist() == [0, 3, 6, 9, 0, 0, 0]
        assert f[f"INDEX/{MOTOR}/count"][:].tolist() == [1, 1, 1, 1, 0, 0, 0]


def test_old_index_first_last_status(tmp_path):
    dev = XTDFModule(AGIPD, frames_per_train=2, frame_shape=(2, 2), skip_trains=(10001,))
    path = write_file(tmp_path / "f.h5", [dev], n_trains=3, old_index=True)
    with h5py.File(path, "r") as f:
        grp = f[f"INDEX/{AGIPD}:xtdf/image"]
        assert "count" not in grp
        first, last, status = grp["first"][:], grp["last"][:], grp["status"][:]
        assert first.tolist() == [0, 2, 2]
        assert status.tolist() == [1, 0, 1]
        assert ((last - first + 1) * status).tolist() == [2, 0, 2]


def test_skipped_trains_and_several_entries(tmp_path):
    devs = [XGM(XGM_NAME, entries_per_train=3, skip_trains=(10001,)),
            JUNGFRAUModule("SPB_IRDA_JF4M/DET/JNGFR01", memory_cells=2, frame_shape=(2, 3),
                           skip_trains=(10000,))]
    path = write_file(tmp_path / "f.h5", devs, n_trains=3)
    with h5py.File(path, "r") as f:
        assert f[f"INDEX/{XGM_NAME}:output/data/count"][:].tolist() == [3, 0, 3]
        assert f[f"INSTRUMENT/{XGM_NAME}:output/data/trainId"][:].tolist() == [10000] * 3 + [10002] * 3
        jf = "SPB_IRDA_JF4M/DET/JNGFR01:daqOutput"
        assert f[f"INDEX/{jf}/data/count"][:].tolist() == [0, 1, 1]
        assert f[f"INSTRUMENT/{jf}/data/adc"].shape == (2, 2, 2, 3)


def test_control_values_follow_documented_formulas(tmp_path):
    path = write_file(tmp_path / "f.h5", [Motor(MOTOR), XGM(XGM_NAME)], n_trains=12,
                      first_train_id=20005, seed=4, run_first_train_id=20000)
    p0 = float(name_hash(MOTOR, 4) % 1000 % 100)
    t = np.arange(20005, 20017)
    with h5py.File(path, "r") as f:
        ctrl = f[f"CONTROL/{MOTOR}"]
        np.testing.assert_allclose(ctrl["actualPosition/value"][:], p0 + 0.001 * (t % 100000))
        np.testing.assert_allclose(ctrl["encoderPosition/value"][:],
                                   p0 + 0.001 * (t % 100000) + 0.0005)
        assert [s.decode() for s in ctrl["state/value"][:]] == [
            "MOVING" if x % 10 == 0 else "ON" for x in t]
        assert ctrl["actualPosition"].attrs["unitSymbol"] == "m"
        assert ctrl["actualPosition"].attrs["metricPrefixSymbol"] == "m"
        run = f[f"RUN/{MOTOR}"]
        assert run["actualPosition/value"][0] == pytest.approx(p0 + 20.0)  # run start: t=20000
        assert run["state/value"][0] == b"MOVING"
        assert run["classId/value"][0] == b"MotorClass"
        assert run["deviceId/value"][0] == MOTOR.encode()
        flux = f[f"CONTROL/{XGM_NAME}/pulseEnergy/photonFlux"]
        h = name_hash(XGM_NAME, 4) % 1000
        np.testing.assert_array_equal(flux["value"][:],
                                      (500 + ((7 * t + h) % 1000) * 0.5).astype(np.float32))
        assert flux.attrs["unitSymbol"] == "J" and flux.attrs["metricPrefixSymbol"] == "u"


def test_detector_layout_raw_and_corrected(tmp_path):
    raw = XTDFModule(AGIPD, frames_per_train=2, frame_shape=(3, 4))
    corr = XTDFModule("SPB_DET_AGIPD1M-1/CORR/1CH0", frames_per_train=2, raw=False,
                      frame_shape=(3, 4))
    lpd = XTDFModule("FXE_DET_LPD1M-1/DET/0CH0", detector="LPD", frames_per_train=1)
    path = write_file(tmp_path / "f.h5", [raw, corr, lpd], n_trains=2, seed=1)
    with h5py.File(path, "r") as f:
        img = f[f"INSTRUMENT/{AGIPD}:xtdf/image"]
        assert img["data"].shape == (4, 2, 3, 4) and img["data"].dtype == np.uint16
        assert img["data"].chunks == (1, 2, 3, 4) and img["data"].compression == "gzip"
        assert img["cellId"].shape == (4, 1) and img["pulseId"][:, 0].tolist() == [0, 4, 0, 4]
        h = name_hash(AGIPD, 1) % 1000
        expect = (7 * 10001 + 3 * 1 + 1000 * 1 + 2 + 3 + h) % 16384
        assert img["data"][3, 1, 2, 3] == expect
        cimg = f["INSTRUMENT/SPB_DET_AGIPD1M-1/CORR/1CH0:output/image"]
        assert cimg["data"].shape == (4, 3, 4) and cimg["data"].dtype == np.float32
        assert cimg["gain"].dtype == np.uint8 and cimg["mask"].dtype == np.uint32
        assert cimg["cellId"].shape == (4,) and cimg["data"].shuffle
        assert f["INSTRUMENT/FXE_DET_LPD1M-1/DET/0CH0:xtdf/image/data"].shape == (2, 1, 256, 256)


def test_run_only_source_has_empty_control_group(tmp_path):
    path = write_file(tmp_path / "f.h5", [RunOnlyDevice("SPB_XTD9/RUNONLY/A")], n_trains=3)
    with h5py.File(path, "r") as f:
        assert len(f["CONTROL/SPB_XTD9/RUNONLY/A"]) == 0
        assert f["RUN/SPB_XTD9/RUNONLY/A/classId/value"][0] == b"RunOnlyDevice"
        assert f["INDEX/SPB_XTD9/RUNONLY/A/count"][:].tolist() == [0, 0, 0]
        assert "CONTROL/SPB_XTD9/RUNONLY/A" in _strings(f["METADATA/dataSources/dataSourceId"])


def test_legacy_names_are_soft_links(tmp_path):
    legacy = "SPB_DET_AGIPD1M-1/DET/OLD0:xtdf"
    path = write_file(tmp_path / "f.h5", [XTDFModule(AGIPD, frames_per_train=1,
                                                      frame_shape=(2, 2))],
                      legacy_names={legacy: f"{AGIPD}:xtdf"}, n_trains=2)
    with h5py.File(path, "r") as f:
        link = f.get(f"INSTRUMENT/{legacy}", getlink=True)
        assert isinstance(link, h5py.SoftLink) and link.path == f"/INSTRUMENT/{AGIPD}:xtdf"
        assert f.get(f"INDEX/{legacy}", getlink=True).path == f"/INDEX/{AGIPD}:xtdf"
        assert f"INSTRUMENT/{legacy}/image" in _strings(f["METADATA/dataSources/dataSourceId"])


def test_auxiliary_sections(tmp_path):
    devs = [XGM(XGM_NAME), AuxiliarySource("TRAINS_OUTSIDE_BUFFER_RANGE", section="ERRATA"),
            AuxiliarySource(f"PULSE_REDUCTION/{AGIPD}:xtdf", group="image")]
    path = write_file(tmp_path / "f.h5", devs, n_trains=10, format_version="1.3")
    with h5py.File(path, "r") as f:
        assert _strings(f["METADATA/auxiliarySources/ERRATA"]) == [
            "ERRATA/TRAINS_OUTSIDE_BUFFER_RANGE/event"]
        assert _strings(f["METADATA/auxiliarySources/REDUCTION"]) == [
            f"REDUCTION/PULSE_REDUCTION/{AGIPD}:xtdf/image"]
        assert f["INDEX/TRAINS_OUTSIDE_BUFFER_RANGE/event/count"][:].tolist() == [
            1, 0, 0, 0, 0, 1, 0, 0, 0, 0]
        assert f["ERRATA/TRAINS_OUTSIDE_BUFFER_RANGE/event/originalTrainIds"][:].tolist() == [
            11000, 11005]
        red = f[f"REDUCTION/PULSE_REDUCTION/{AGIPD}:xtdf/image/wasReduced"]
        assert red.shape == (10,)
        dsids = _strings(f["METADATA/dataSources/dataSourceId"])
        assert not any("ERRATA" in s or "REDUCTION" in s for s in dsids)


def test_same_seed_same_bytes_other_seed_other_values(tmp_path):
    devs = _devices() + [ControlDevice("SPB_G/DEV/A", n_keys=4)]
    a = write_file(tmp_path / "a.h5", devs, seed=5)
    b = write_file(tmp_path / "b.h5", devs, seed=5)
    c = write_file(tmp_path / "c.h5", devs, seed=6)
    assert filecmp.cmp(a, b, shallow=False)
    with h5py.File(a, "r") as fa, h5py.File(c, "r") as fc:
        key = f"INSTRUMENT/{AGIPD}:xtdf/image/data"
        assert not np.array_equal(fa[key][:], fc[key][:])


def test_recipe_round_trip(tmp_path):
    devs = _devices()
    path = write_file(tmp_path / "f.h5", devs, n_trains=3, faults=())
    recipe = read_recipe(path)
    assert recipe["devices"] == devs
    assert recipe["train_ids"] == [10000, 10001, 10002]


def test_files_written_a_second_apart_are_identical(tmp_path):
    import time

    devs = [Motor(MOTOR), RunOnlyDevice("SPB_R/O/D"), AuxiliarySource("E", section="ERRATA"),
            XTDFModule(AGIPD, frames_per_train=1, frame_shape=(2, 2))]
    a = write_file(tmp_path / "a.h5", devs, n_trains=3)
    time.sleep(1.05)  # HDF5 object timestamps have one-second resolution
    b = write_file(tmp_path / "b.h5", devs, n_trains=3)
    assert filecmp.cmp(a, b, shallow=False)
