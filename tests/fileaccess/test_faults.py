"""FileAccess on files with the faults of real data (generator faults)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from extra_catalog.exceptions import (CorruptFileError, DataFileError, FileStructureError)
from extra_catalog.fileaccess import FileAccess, get_handle_cache
from extra_catalog.testing import BOGUS_TRAIN_ID, FILE_FAULTS, Camera, Motor, XGM, write_file

from .conftest import CAMERA_NAME, MOTOR_NAME, XGM_NAME

N = 10
I = N // 2
TIDS = np.arange(10000, 10000 + N, dtype=np.uint64)
XGM_OUT = XGM_NAME + ":output"


def faulty(tmp_path: Path, fault: str, version: str = "1.3", **kwargs) -> Path:
    devices = [Motor(MOTOR_NAME), XGM(XGM_NAME, entries_per_train=2)]
    return write_file(tmp_path / f"RAW-R0001-DA01-S00000-{fault}.h5", devices, n_trains=N,
                      format_version=version, faults=[fault], **kwargs)


def checks(fa: FileAccess) -> list[str]:
    return [p.check for p in fa.to_record().problems]


@pytest.mark.parametrize("version", ["0.5", "1.0"])
def test_train_ids_not_increasing(tmp_path, version) -> None:
    fa = FileAccess(faulty(tmp_path, "train_ids_not_increasing", version))
    expected = TIDS.copy()
    expected[[I - 1, I]] = expected[[I, I - 1]]
    np.testing.assert_array_equal(fa.train_ids, expected)
    assert "train_ids_order" in checks(fa)
    if version == "0.5":  # the guess drops exactly one of the swapped pair
        assert (~fa.validity_flag).sum() == 1
        assert not fa.validity_flag[I - 1:I + 1].all()
    else:
        assert fa.validity_flag.all()


@pytest.mark.parametrize("version", ["0.5", "1.2"])
def test_bogus_train_id(tmp_path, version) -> None:
    fa = FileAccess(faulty(tmp_path, "bogus_train_id", version))
    assert fa.train_ids[I] == BOGUS_TRAIN_ID == 2**64 - 1
    problem = fa.to_record().problems[0]
    assert problem.check == "train_ids_order" and problem.train_id is not None
    if version == "0.5":
        np.testing.assert_array_equal(np.flatnonzero(~fa.validity_flag), [I])
    # The record keeps the bogus value exactly.
    assert FileAccess.from_record(fa.to_record()).train_ids[I] == 2**64 - 1


def test_zero_train_id_inside_is_not_padding(tmp_path) -> None:
    fa = FileAccess(faulty(tmp_path, "zero_train_ids", pad_train_ids=2))
    assert len(fa.train_ids) == N and fa.train_ids[I] == 0
    assert "train_ids_zero" in checks(fa)


def test_index_short_padded_with_empty_trains(tmp_path) -> None:
    fa = FileAccess(faulty(tmp_path, "index_short"))
    first, count = fa.get_index(XGM_OUT, "data")
    assert len(first) == len(count) == N
    assert count[-1] == 0 and count[0] == 2
    assert fa.get_index(MOTOR_NAME, "")[1][-1] == 0
    problems = [p for p in fa.to_record().problems if p.check == "index_short"]
    assert [p.source for p in problems] == [MOTOR_NAME, XGM_NAME, XGM_OUT]
    assert "have 9/9 entries but INDEX/trainId has 10" in problems[0].message


def test_index_long_truncated(tmp_path) -> None:
    fa = FileAccess(faulty(tmp_path, "index_long", pad_train_ids=1))
    first, count = fa.get_index(XGM_OUT, "data")
    assert len(first) == len(count) == N
    np.testing.assert_array_equal(count, np.full(N, 2))
    assert "index_long" in checks(fa)


def test_index_past_end_reported(tmp_path) -> None:
    fa = FileAccess(faulty(tmp_path, "index_past_end"))
    assert fa.get_index(XGM_OUT, "data")[1][-1] == 2 + 5
    problem = next(p for p in fa.to_record().problems if p.check == "index_past_end")
    assert problem.source == XGM_OUT
    assert "has 20 entries" in problem.message


def test_index_gaps_and_overlaps_read_as_stored(tmp_path) -> None:
    gaps = FileAccess(faulty(tmp_path, "index_gaps"))
    assert gaps.get_index(XGM_OUT, "data")[1][I] == 1
    overlaps = FileAccess(faulty(tmp_path, "index_overlaps"))
    first, count = overlaps.get_index(XGM_OUT, "data")
    assert (first[I], count[I]) == (2 * I - 1, 3)


def test_control_data_missing(tmp_path) -> None:
    fa = FileAccess(faulty(tmp_path, "control_data_missing"))
    assert fa.key_info(MOTOR_NAME, "actualPosition.value").length == N - 2
    problem = next(p for p in fa.to_record().problems if p.check == "index_past_end")
    assert problem.source == MOTOR_NAME


def test_zero_trains(tmp_path) -> None:
    fa = FileAccess(faulty(tmp_path, "zero_trains", pad_train_ids=3))
    assert len(fa.train_ids) == 0 and len(fa.validity_flag) == 0
    first, count = fa.get_index(XGM_OUT, "data")
    assert len(first) == len(count) == 0
    assert fa.get_run_values(MOTOR_NAME)["classId.value"] == "MotorClass"
    assert not fa.has_train_ids(TIDS, inc_suspect=True)
    clone = FileAccess.from_record(fa.to_record())
    assert len(clone.train_ids) == 0


def test_control_timestamps_backwards_still_read(tmp_path) -> None:
    fa = FileAccess(faulty(tmp_path, "control_timestamps_backwards"))
    ts = fa.file[fa.dataset_path(MOTOR_NAME, "actualPosition.timestamp")][:]
    assert ts[I] < ts[I - 1]
    assert fa.key_info(MOTOR_NAME, "actualPosition.timestamp").length == N


@pytest.mark.parametrize("fault, error, words", [
    ("truncated", CorruptFileError, "not a readable HDF5 file"),
    ("not_hdf5", CorruptFileError, "not a readable HDF5 file"),
    ("not_euxfel", FileStructureError, "no METADATA source list"),
    ("no_source_list", FileStructureError, "no METADATA source list"),
    ("no_index_trainid", FileStructureError, "no INDEX/trainId"),
])
def test_unreadable_files(tmp_path, fault, error, words) -> None:
    path = faulty(tmp_path, fault)
    with pytest.raises(error) as info:
        FileAccess(path)
    assert str(path) in str(info.value) and words in str(info.value)
    if isinstance(info.value, DataFileError):
        assert info.value.path == str(path)
    assert get_handle_cache().n_open() == 0  # a rejected file is not kept open


def test_every_file_fault_is_covered() -> None:
    covered = {"train_ids_not_increasing", "bogus_train_id", "zero_train_ids", "index_short",
               "index_long", "index_past_end", "index_gaps", "index_overlaps",
               "control_data_missing", "zero_trains", "control_timestamps_backwards",
               "truncated", "not_hdf5", "not_euxfel", "no_source_list", "no_index_trainid"}
    assert set(FILE_FAULTS) <= covered


def test_camera_with_all_faults_free_file_has_no_problems(tmp_path) -> None:
    path = write_file(tmp_path / "ok.h5", [Camera(CAMERA_NAME, shape=(4, 4)), Motor(MOTOR_NAME)],
                      pad_train_ids=4)
    assert FileAccess(path).to_record().problems == ()
