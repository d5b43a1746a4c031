"""DataCollection structure: sources, trains, item access, opening, conflicts, suspect trains."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from extra_catalog.exceptions import PropertyNameError, SourceNameError
from extra_catalog.fileaccess import FileAccess, hdf5_open_count
from extra_catalog.reader import DataCollection, KeyData, SourceData
from extra_catalog.testing import XGM, Camera, Motor, write_file, write_run

XGM_NAME = "SA1_XTD2_XGM/DOOCS/MAIN"
DET0 = "SPB_DET_AGIPD1M-1/DET/0CH0:xtdf"


@pytest.fixture(scope="module")
def run_files(tmp_path_factory) -> list[Path]:
    run_dir = tmp_path_factory.mktemp("coll") / "r0001"
    return write_run(run_dir, n_trains=30, trains_per_sequence=10, detector="AGIPD1M",
                     n_modules=2, frames_per_train=3, frame_shape=(4, 4))


@pytest.fixture(scope="module")
def run(run_files) -> DataCollection:
    return DataCollection.from_paths(run_files, is_single_run=True)


def test_structure(run, run_files):
    assert run.train_ids == list(range(10000, 10030))
    assert XGM_NAME in run.control_sources and DET0 in run.instrument_sources
    assert run.all_sources == run.control_sources | run.instrument_sources
    assert isinstance(run.control_sources, frozenset)
    assert run.detector_sources == {DET0, "SPB_DET_AGIPD1M-1/DET/1CH0:xtdf"}
    assert {f.filename for f in run.files} == {str(p) for p in run_files}
    assert run.selection[XGM_NAME] is None
    assert repr(run) == f"<extra_data.DataCollection for {len(run.all_sources)} sources and 30 trains>"


def test_item_access(run):
    assert isinstance(run[XGM_NAME], SourceData)
    kd = run[XGM_NAME, "beamPosition.ixPos"]  # CONTROL keys may omit .value
    assert isinstance(kd, KeyData) and kd.key == "beamPosition.ixPos.value"
    assert (XGM_NAME, "beamPosition.ixPos") in run and XGM_NAME in run
    assert ("nope", "x") not in run and 42 not in run
    with pytest.raises(SourceNameError, match="no source named 'nope'"):
        run["nope"]
    with pytest.raises(PropertyNameError):
        run[XGM_NAME, "nope"]
    with pytest.raises(TypeError):
        run[XGM_NAME, 10]
    with pytest.raises(TypeError):
        iter(run)


def test_keys_shape_dtype(run):
    keys = run.keys_for_source(XGM_NAME)
    assert "beamPosition.ixPos.value" in keys and "beamPosition.ixPos.timestamp" in keys
    assert run.get_entry_shape(DET0, "image.data") == (2, 4, 4)
    assert run.get_dtype(DET0, "image.data") == np.uint16


def test_context_manager(run_files, run):
    with DataCollection.from_paths(run_files[:1]) as dc:
        assert dc.files
    with pytest.raises(Exception, match="with"):
        with run.select(XGM_NAME):
            pass


def test_from_paths_skips_bad_files(run_files, tmp_path, capsys):
    bad = tmp_path / "RAW-R0001-DA09-S00000.h5"
    bad.write_bytes(b"not hdf5")
    dc = DataCollection.from_paths([bad, run_files[0]])
    assert len(dc.files) == 1
    err = capsys.readouterr().err
    assert f"Skipping file {bad.name}" in err and "(error was:" in err and str(bad) in err
    with pytest.raises(Exception, match="All HDF5 files specified are unusable"):
        DataCollection.from_paths([bad])


def test_conflicting_data(tmp_path):
    run_dir = tmp_path / "r1"
    files = write_run(run_dir, n_trains=40, trains_per_sequence=20,
                      faults=["overlapping_sequences"])
    with pytest.raises(ValueError, match=r"sources have conflicting data \(same train ID in "
                                         r"different files\): .*SA1_XTD2_XGM/DOOCS/MAIN"):
        DataCollection.from_paths(files)


def test_legacy_name(tmp_path):
    path = write_file(tmp_path / "a.h5", [XGM(XGM_NAME)],
                      legacy_names={"OLD_XGM/DOOCS/MAIN:output": f"{XGM_NAME}:output"})
    dc = DataCollection.from_paths([path])
    assert dc.legacy_sources == {"OLD_XGM/DOOCS/MAIN:output": f"{XGM_NAME}:output"}
    assert dc.detector_sources == set()
    with pytest.warns(DeprecationWarning, match="legacy name"):
        sd = dc["OLD_XGM/DOOCS/MAIN:output"]
    assert sd.is_legacy and sd.canonical_name == f"{XGM_NAME}:output"
    np.testing.assert_array_equal(sd["data.intensityTD"].ndarray(),
                                  dc[f"{XGM_NAME}:output", "data.intensityTD"].ndarray())


# --- suspect trains ---------------------------------------------------------------------

@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2", "1.3"])
def test_suspect_trains_flagged(tmp_path, version):
    path = write_file(tmp_path / "f.h5", [Motor("M/MOTOR/X")], n_trains=10,
                      format_version=version, suspect_train_ids=[10003, 10004])
    every = DataCollection.from_paths([path])
    good = DataCollection.from_paths([path], inc_suspect_trains=False)
    assert len(every.train_ids) == 10
    assert good.train_ids == [t for t in range(10000, 10010) if t not in (10003, 10004)]
    kd = good["M/MOTOR/X", "actualPosition"]
    assert kd.shape == (8,)
    np.testing.assert_array_equal(kd.train_id_coordinates(), good.train_ids)


def test_suspect_trains_guessed_for_format_05(tmp_path):
    tids = [10000, 10001, 10002, 9000, 10003, 10004]
    path = write_file(tmp_path / "old.h5", [Motor("M/MOTOR/X")], train_ids=tids,
                      format_version="0.5")
    good = DataCollection.from_paths([path], inc_suspect_trains=False)
    assert good.train_ids == [10000, 10001, 10002, 10003, 10004]
    every = DataCollection.from_paths([path])
    assert every.train_ids == sorted(tids)
    # values still line up with their trains after dropping the bogus one
    pos = good["M/MOTOR/X", "actualPosition"].ndarray()
    p0 = pos[0] - 0.001 * (10000 % 100000)
    np.testing.assert_allclose(pos, p0 + 0.001 * np.array(good.train_ids))


def test_duplicate_train_ids_in_one_file_conflict(tmp_path):
    tids = [10000, 10001, 10001, 10002]
    path = write_file(tmp_path / "dup.h5", [Motor("M/MOTOR/X")], train_ids=tids,
                      format_version="1.3", suspect_train_ids=[])
    with pytest.raises(ValueError, match="conflicting data"):
        DataCollection.from_paths([path])


# --- metadata without opening files ---------------------------------------------------

def test_metadata_operations_open_no_file(run_files):
    records = [FileAccess(p).to_record() for p in run_files]
    for p in run_files:
        FileAccess(p).close()
    files = [FileAccess.from_record(r) for r in records]
    before = hdf5_open_count()
    dc = DataCollection(files, is_single_run=True)
    sel = dc.select([("*XGM*", "*.photonFlux"), (DET0, "image.*")], require_all=True)[2:20]
    kd = sel[DET0, "image.data"]
    assert kd.shape == (54, 2, 4, 4) and kd.dtype == np.uint16
    assert kd.data_counts(labelled=False).tolist() == [3] * 18
    assert sel[XGM_NAME, "pulseEnergy.photonFlux"].units == "μJ"
    assert len(dc.train_timestamps()) == 30 and dc.run_metadata()["runNumber"] == 1
    assert sel[XGM_NAME].run_value("classId") == "DoocsXGM"
    list(dc.split_trains(4))
    assert repr(sel) and sel.keys_for_source(XGM_NAME)
    assert hdf5_open_count() == before
