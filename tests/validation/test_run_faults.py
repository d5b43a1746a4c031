"""Faults across a run's files, unreadable and hanging files, and the run report."""

from __future__ import annotations

import os

import pytest

from extra_catalog.testing import RUN_FAULTS, append_sequence, grow_file, write_run
from extra_catalog.validation import RunValidator, ValidationError


def _run(tmp_path, *faults: str, **kwargs):
    run_dir = tmp_path / "r0001"
    write_run(run_dir, n_trains=40, trains_per_sequence=15, faults=faults, processes=1,
              **kwargs)
    return run_dir


def _checks(problems: list[dict]) -> list[str]:
    return [p["check"] for p in problems]


def test_every_run_fault_is_tested() -> None:
    tested = {"overlapping_sequences", "source_in_two_aggregators", "hanging_file",
              "still_writing"}
    assert tested == set(RUN_FAULTS)


def test_clean_run_passes(tmp_path) -> None:
    validator = RunValidator(_run(tmp_path), catalog=False)
    validator.validate()
    assert validator.problems == []
    assert len(validator.outcomes) == 6


def test_overlapping_sequences(tmp_path) -> None:
    run_dir = _run(tmp_path, "overlapping_sequences")
    (problem,) = RunValidator(run_dir, catalog=False).run_checks()
    assert problem["check"] == "sequence_overlap"
    assert problem["msg"] == ("Sequence files of aggregator DA01 overlap: RAW-R0001-DA01-S00000.h5"
                              " and RAW-R0001-DA01-S00001.h5 share 5 train IDs (10010 to 10014)")
    assert problem["file"] == str(run_dir / "RAW-R0001-DA01-S00001.h5")
    assert problem["train_id"] == 10010


def test_source_in_two_aggregators(tmp_path) -> None:
    run_dir = _run(tmp_path, "source_in_two_aggregators")
    problems = RunValidator(run_dir, catalog=False).run_checks()
    assert set(_checks(problems)) == {"source_aggregators"}
    first = problems[0]
    assert first["msg"] == ("Source is written by two aggregators (DA01 and DA02) for the same "
                            "40 trains (10000 to 10039)")
    assert first["source"] == "SA1_XTD2_XGM/DOOCS/MAIN"
    assert first["file"] == str(run_dir / "RAW-R0001-DA02-S00000.h5")


def test_hanging_file_is_reported_and_does_not_block(tmp_path) -> None:
    run_dir = _run(tmp_path, "hanging_file")
    problems = RunValidator(run_dir, timeout=2, catalog=False).run_checks()
    (problem,) = problems
    assert problem["msg"] == "Could not access file"
    assert problem["file"] == str(run_dir / "RAW-R0001-DA99-S00000.h5")
    assert "no answer within 2 s" in problem["error"]


def test_unreadable_file_and_the_others_still_checked(tmp_path) -> None:
    run_dir = _run(tmp_path, "truncated", "index_gaps")
    validator = RunValidator(run_dir, catalog=False)
    problems = validator.run_checks()
    # Both faults hit the first file; the truncation hides the gaps.
    assert [p["msg"] for p in problems] == ["Could not open HDF5 file"]
    assert sum(o.record is not None for o in validator.outcomes) == 5


def test_file_without_permission(tmp_path) -> None:
    run_dir = _run(tmp_path)
    locked = run_dir / "RAW-R0001-DA02-S00000.h5"
    os.chmod(locked, 0)
    if os.access(locked, os.R_OK):
        pytest.skip("running as root: permissions do not stop reading")
    (problem,) = RunValidator(run_dir, catalog=False).run_checks()
    assert problem["msg"] == "Could not access file"
    assert "Permission denied" in problem["error"]


def test_empty_run_directory(tmp_path) -> None:
    (tmp_path / "r0009").mkdir()
    with pytest.raises(ValidationError) as info:
        RunValidator(tmp_path / "r0009", catalog=False).validate()
    assert info.value.problems == [{"msg": "No usable files found",
                                    "directory": str(tmp_path / "r0009"), "check": "run_files"}]


def test_still_writing_run_against_the_catalogue(tmp_path, catalog) -> None:
    from extra_catalog.index.crawler import CrawlOptions, crawl

    run_dir = _run(tmp_path, "still_writing")
    crawl(catalog, [run_dir], CrawlOptions(settle=0, processes=1))
    assert RunValidator(run_dir, catalog=catalog).run_checks() == []
    grow_file(run_dir / "RAW-R0001-DA01-S00001.h5", 5)
    append_sequence(run_dir, 5, aggregators=["DA02"])
    problems = RunValidator(run_dir, catalog=catalog).run_checks()
    found = sorted((os.path.basename(p["file"]), p["msg"]) for p in problems)
    assert found == [
        ("RAW-R0001-DA01-S00001.h5",
         "File changed since it was catalogued (run still being written?)"),
        ("RAW-R0001-DA02-S00002.h5", "File is not in the catalogue (run still being written?)"),
    ]
    assert {p["check"] for p in problems} == {"run_json_cache"}
    assert RunValidator(run_dir, catalog=catalog, skip_checks=["run_json_cache"]).run_checks() \
        == []


def test_progress_only_on_request_or_a_terminal(tmp_path, capsys) -> None:
    from extra_catalog.validation.runner import TerminalProgress

    run_dir = _run(tmp_path, "index_gaps")
    RunValidator(run_dir, term_progress=True, catalog=False).run_checks()
    assert capsys.readouterr().err == ""  # stderr is not a terminal here
    validator = RunValidator(run_dir, catalog=False)
    validator.progress = TerminalProgress(True)
    validator.run_checks()
    err = capsys.readouterr().err
    assert err.startswith("\rProgress: 1/6 [") and err.endswith("] 1 problems\n")


def test_missing_run_directory(tmp_path) -> None:
    (problem,) = RunValidator(tmp_path / "nowhere", catalog=False).run_checks()
    assert problem["msg"] == "No usable files found"
    assert problem["error"] == "No such file or directory"
