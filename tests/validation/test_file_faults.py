"""Every file fault of the mock-data generator is found, with a precise message."""

from __future__ import annotations

import re

import pytest

from extra_catalog.fileaccess import FileAccess
from extra_catalog.testing import FILE_FAULTS, FORMAT_VERSIONS
from extra_catalog.validation import FileValidator, ValidationError
from extra_catalog.validation.runner import check_files

from .conftest import faulty_file

TIMESTAMPS = "control_timestamps_order"  # the generator's timestamps follow the train IDs

#: fault -> (check, message pattern, extra fields expected, other checks allowed to fire)
EXPECTED: dict[str, tuple[str, str, dict, set[str]]] = {
    "train_ids_not_increasing": (
        "train_ids_order", r"Train IDs are not strictly increasing, e\.g\. at 4 "
        r"\(10005 >= 10004\)", {"dataset": "INDEX/trainId", "train_id": 10004}, {TIMESTAMPS}),
    "bogus_train_id": (
        "train_ids_order", r"Train IDs are not strictly increasing, e\.g\. at 5 "
        r"\(18446744073709551615 >= 10006\)", {"dataset": "INDEX/trainId"}, {TIMESTAMPS}),
    "zero_train_ids": (
        "train_ids_nonzero", r"Zeroes in trainId index before last train ID",
        {"dataset": "INDEX/trainId", "positions": "5"}, {TIMESTAMPS}),
    "index_short": (
        "index_control", r"Index has wrong number of entries",
        {"index_shape": "(9,)", "trainids_shape": "(10,)"}, {"index_instrument"}),
    "index_long": (
        "index_control", r"Index has wrong number of entries",
        {"index_shape": "(12,)", "trainids_shape": "(10,)"}, {"index_instrument"}),
    "index_past_end": (
        "index_instrument", r"Index referring to data \(15\) outside dataset \(10\)",
        {"source": "SA1_XTD2_XGM/DOOCS/MAIN:output", "train_id": 10009}, set()),
    "index_gaps": (
        "index_instrument", r"Gaps \(1\) in index, e\.g\. at 5 \(5 \+ 0 < 6\)",
        {"dataset": "INDEX/SA1_XTD2_XGM/DOOCS/MAIN:output/data", "train_id": 10005}, set()),
    "index_overlaps": (
        "index_instrument", r"Overlaps \(1\) in index, e\.g\. at 4 \(4 \+ 1 > 4\)",
        {"dataset": "INDEX/SA1_XTD2_XGM/DOOCS/MAIN:output/data", "train_id": 10004}, set()),
    "control_data_missing": (
        "index_control", r"Index referring to data \(10\) outside dataset \(8\)",
        {"source": "SA1_XTD2_XGM/DOOCS/MAIN", "train_id": 10008}, set()),
    "zero_trains": (
        "train_ids_present", r"File has no trains \(INDEX/trainId is empty\)",
        {"dataset": "INDEX/trainId"}, set()),
    "control_timestamps_backwards": (
        TIMESTAMPS, r"Timestamp is decreasing, e\.g\. at 5 \(\d+ < \d+\)",
        {"source": "SA1_XTD2_XGM/DOOCS/MAIN", "train_id": 10005}, set()),
    "truncated": ("file_open", r"Could not open HDF5 file", {"error": "truncated file"}, set()),
    "not_hdf5": ("file_open", r"Could not open HDF5 file",
                 {"error": "file signature not found"}, set()),
    "not_euxfel": ("file_open", r"Could not open HDF5 file",
                   {"error": "not an EuXFEL data file"}, set()),
    "no_index_trainid": ("file_open", r"Could not open HDF5 file",
                         {"error": "no INDEX/trainId"}, set()),
    "no_source_list": ("file_open", r"Could not open HDF5 file",
                       {"error": "no METADATA source list"}, set()),
}


def test_every_file_fault_has_an_expectation() -> None:
    assert set(EXPECTED) == set(FILE_FAULTS)


def _matches(problem: dict, check: str, pattern: str, fields: dict) -> bool:
    if problem["check"] != check or not re.fullmatch(pattern, problem["msg"]):
        return False
    for key, value in fields.items():
        if key == "error":
            if value not in problem.get("error", ""):
                return False
        elif problem.get(key) != value:
            return False
    return True


def _problems(path) -> list[dict]:
    from extra_catalog.validation.problems import problem_dict

    (outcome,) = check_files([str(path)], processes=1, timeout=60)
    return [problem_dict(outcome.path, p) for p in outcome.problems]


@pytest.mark.parametrize("old_index", [False, True], ids=["first_count", "first_last_status"])
@pytest.mark.parametrize("fault", sorted(FILE_FAULTS))
def test_fault_is_found_with_a_precise_message(tmp_path, fault, old_index) -> None:
    path = faulty_file(tmp_path, fault, old_index=old_index)
    check, pattern, fields, also = EXPECTED[fault]
    problems = _problems(path)
    assert any(_matches(p, check, pattern, fields) for p in problems), problems
    assert {p["check"] for p in problems} <= {check} | also, problems
    assert all(p["file"] == str(path) for p in problems)


@pytest.mark.parametrize("version", FORMAT_VERSIONS)
@pytest.mark.parametrize("fault", ["index_gaps", "train_ids_not_increasing", "index_short"])
def test_faults_found_in_every_format_version(tmp_path, version, fault) -> None:
    path = faulty_file(tmp_path, fault, format_version=version)
    check, pattern, fields, _ = EXPECTED[fault]
    assert any(_matches(p, check, pattern, fields) for p in _problems(path))


@pytest.mark.parametrize("version", FORMAT_VERSIONS)
@pytest.mark.parametrize("pad", [0, 3])
@pytest.mark.parametrize("old_index", [False, True])
def test_clean_files_have_no_problems(tmp_path, version, pad, old_index) -> None:
    # Padding zeros at the end of INDEX/trainId and index arrays as long as
    # INDEX/trainId are normal: EXtra-data 1.25 reports the latter as wrong
    # lengths and overlaps; we do not.
    path = faulty_file(tmp_path, format_version=version, pad_train_ids=pad,
                       old_index=old_index)
    assert _problems(path) == []


def test_file_validator_raises_validation_error(tmp_path) -> None:
    fa = FileAccess(faulty_file(tmp_path, "index_overlaps"))
    validator = FileValidator(fa)
    with pytest.raises(ValidationError) as info:
        validator.validate()
    (problem,) = info.value.problems
    assert problem["msg"].startswith("Overlaps (1) in index")
    assert problem["file"] == fa.filename
    assert validator.problems == info.value.problems
    assert str(info.value) == "\n" + "\n".join([
        "Overlaps (1) in index, e.g. at 4 (4 + 1 > 4)",
        "  dataset: INDEX/SA1_XTD2_XGM/DOOCS/MAIN:output/data",
        "  source: SA1_XTD2_XGM/DOOCS/MAIN:output",
        "  train_id: 10004",
        f"  file: {fa.filename}",
        "  check: index_instrument"])


def test_file_validator_on_a_file_of_an_opened_collection(tmp_path) -> None:
    from extra_catalog import H5File

    run = H5File(faulty_file(tmp_path, "index_gaps"))
    (problem,) = FileValidator(run.files[0]).run_checks()
    assert problem["msg"] == "Gaps (1) in index, e.g. at 5 (5 + 0 < 6)"


def test_file_validator_skips_checks(tmp_path) -> None:
    fa = FileAccess(faulty_file(tmp_path, "control_timestamps_backwards"))
    assert FileValidator(fa, skip_checks=["control_timestamps_order"]).run_checks() == []
    FileValidator(fa, skip_checks=["control_timestamps_order"]).validate()


def test_unknown_check_name_is_refused(tmp_path) -> None:
    fa = FileAccess(faulty_file(tmp_path))
    with pytest.raises(ValueError, match="Unknown names passed to --skip: no_such_check"):
        FileValidator(fa, skip_checks=["no_such_check"])


def test_index_of_the_wrong_shape_is_named_not_a_crash(tmp_path) -> None:
    import h5py
    import numpy as np

    path = faulty_file(tmp_path)
    with h5py.File(path, "r+") as f:
        group = f["INDEX/MID_DET/MOTOR/X"]
        first = group["first"][:]
        del group["first"]
        group["first"] = np.stack([first, first], axis=1)
    problems = _problems(path)
    assert [(p["check"], p["msg"], p["dataset"]) for p in problems] == [
        ("index_control", "Index first / count are not 1D", "INDEX/MID_DET/MOTOR/X")]


def test_old_index_arrays_of_different_shapes(tmp_path) -> None:
    import h5py

    path = faulty_file(tmp_path, old_index=True)
    with h5py.File(path, "r+") as f:
        group = f["INDEX/MID_DET/MOTOR/X"]
        status = group["status"][:]
        del group["status"]
        group["status"] = status[:4]
    assert [p["msg"] for p in _problems(path)] == \
        ["Index first / last / status have different shapes"]
