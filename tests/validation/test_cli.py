"""extra-data-validate, xfel-index problems and xfel-index verify."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from extra_catalog.cli.validate import validate
from extra_catalog.cli.xfel_index import cli
from extra_catalog.testing import write_run
from extra_catalog.validation import ALL_CHECKS

from .conftest import faulty_file


@pytest.fixture(autouse=True)
def no_user_catalogue(tmp_path, monkeypatch):
    monkeypatch.setenv("EXTRA_CATALOG_URL", str(tmp_path / "no-such-catalogue.sqlite"))


def _run(path, *faults: str, run: int = 1):
    write_run(path, run=run, n_trains=30, trains_per_sequence=12, faults=faults, processes=1)
    return path


def test_list_names_extra_data_checks_first() -> None:
    result = CliRunner().invoke(validate, ["--list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "Available checks:"
    assert [name.strip() for name in lines[1:]] == list(ALL_CHECKS)
    assert list(ALL_CHECKS[:6]) == ["train_ids_nonzero", "train_ids_order", "index_control",
                                    "index_instrument", "control_timestamps_order",
                                    "run_json_cache"]


def test_clean_file(tmp_path) -> None:
    path = faulty_file(tmp_path)
    result = CliRunner().invoke(validate, [str(path)])
    assert result.exit_code == 0
    assert result.output == f"Checking file: {path}\n\nNo problems found\n"


def test_report_names_file_source_dataset_and_train(tmp_path) -> None:
    run_dir = _run(tmp_path / "r0001", "index_gaps")
    result = CliRunner().invoke(validate, [str(run_dir)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Checking run directory: {run_dir}\n\n"
                                    "Validation failed! 1 problems:\n\n")
    block = result.output.split("\n\n")[2]
    assert block.splitlines() == [
        "Gaps (1) in index, e.g. at 6 (6 + 0 < 7)",
        "  dataset: INDEX/SA1_XTD2_XGM/DOOCS/MAIN:output/data",
        "  source: SA1_XTD2_XGM/DOOCS/MAIN:output",
        "  train_id: 10006",
        f"  file: {run_dir / 'RAW-R0001-DA01-S00000.h5'}",
        "  check: index_instrument",
    ]


def test_skip(tmp_path) -> None:
    run_dir = _run(tmp_path / "r0001", "index_gaps")
    result = CliRunner().invoke(validate, [str(run_dir), "--skip", "index_instrument"])
    assert (result.exit_code, result.output.splitlines()[-1]) == (0, "No problems found")


def test_unknown_skip_name_exits_1(tmp_path) -> None:
    result = CliRunner().invoke(validate, [str(tmp_path), "--skip", "nonsense"])
    assert result.exit_code == 1
    assert result.output == "Unknown names passed to --skip: nonsense\n"


def test_missing_file_and_no_path(tmp_path) -> None:
    result = CliRunner().invoke(validate, [str(tmp_path / "nothing.h5")])
    assert result.exit_code == 1
    # As EXtra-data, a file that cannot be opened is reported without the header.
    assert result.output.startswith(f"Checking file: {tmp_path / 'nothing.h5'}\n\n"
                                    "Could not access file\n")
    assert "No such file" in result.output
    assert CliRunner().invoke(validate, []).exit_code == 2


def test_hanging_file_does_not_block(tmp_path) -> None:
    run_dir = _run(tmp_path / "r0001", "hanging_file")
    result = CliRunner().invoke(validate, [str(run_dir), "--timeout", "1"])
    assert result.exit_code == 1
    assert "Could not access file" in result.output and "no answer within 1 s" in result.output


def _crawl(url: str, root) -> None:
    from extra_catalog.catalog import open_catalog
    from extra_catalog.index.crawler import CrawlOptions, crawl

    with open_catalog(url) as cat:
        crawl(cat, [root], CrawlOptions(settle=0, processes=1))


def test_catalogued_run_is_answered_from_the_catalogue(tmp_path, catalog_url, monkeypatch):
    import extra_catalog.validation.validators as validators

    run_dir = _run(tmp_path / "r0001", "index_overlaps")
    _crawl(catalog_url, run_dir)
    read = CliRunner().invoke(validate, [str(run_dir), "--catalog", catalog_url, "--recheck"])
    assert read.exit_code == 1

    def no_reading(*args, **kwargs):
        raise AssertionError("files were read")

    monkeypatch.setattr(validators, "check_files", no_reading)
    stored = CliRunner().invoke(validate, [str(run_dir), "--catalog", catalog_url])
    assert stored.exit_code == 1
    assert "(answered from the catalogue" in stored.output
    report = stored.output.split("Validation failed!")[1]
    assert report == read.output.split("Validation failed!")[1]
    # A change to the run means reading it again.
    os.utime(run_dir / "RAW-R0001-DA02-S00000.h5", (1, 1))
    with pytest.raises(AssertionError, match="files were read"):
        CliRunner().invoke(validate, [str(run_dir), "--catalog", catalog_url],
                           catch_exceptions=False)


def test_xfel_index_problems(tmp_path, catalog_url) -> None:
    root = tmp_path / "SPB" / "202601" / "p900001" / "raw"
    _run(root / "r0001", run=1)
    _run(root / "r0002", "index_gaps", run=2)
    _run(root / "r0003", "overlapping_sequences", run=3)
    _crawl(catalog_url, tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["problems", "--catalog", catalog_url, "--json"])
    assert result.exit_code == 1
    rows = json.loads(result.output)
    assert [(r["run"], r["check_name"]) for r in rows] == [(2, "index_instrument"),
                                                           (3, "sequence_overlap")]
    assert rows[0]["train_id"] == 10006 and rows[0]["file"] == "RAW-R0002-DA01-S00000.h5"
    summary = runner.invoke(cli, ["problems", "--catalog", catalog_url, "--check", "index_*",
                                  "--summary", "--csv"])
    assert summary.output.splitlines() == ["proposal,run,data_category,check_name,n_problems",
                                           "900001,2,raw,index_instrument,1"]
    clean = runner.invoke(cli, ["problems", "--catalog", catalog_url, "-r", "1"])
    assert clean.exit_code == 0


def test_xfel_index_verify(tmp_path, catalog_url) -> None:
    root = tmp_path / "SPB" / "202601" / "p900001" / "raw"
    _run(root / "r0001", run=1)
    _run(root / "r0002", run=2)
    _crawl(catalog_url, tmp_path)
    runner = CliRunner()
    ok = runner.invoke(cli, ["verify", "--catalog", catalog_url, str(tmp_path)])
    assert (ok.exit_code, ok.output) == (0, "the catalogue and the file system agree\n")
    os.remove(root / "r0001" / "RAW-R0001-DA02-S00000.h5")
    os.utime(root / "r0002" / "RAW-R0002-DA01-S00000.h5", (1, 1))
    (root / "r0002" / "RAW-R0002-DA03-S00000.h5").write_bytes(b"new")
    _run(root / "r0003", run=3)
    result = runner.invoke(cli, ["verify", "--catalog", catalog_url, str(tmp_path), "--json"])
    assert result.exit_code == 1
    found = [(d["kind"], os.path.relpath(d["path"], root)) for d in json.loads(result.output)]
    assert found == [("missing", "r0001/RAW-R0001-DA02-S00000.h5"),
                     ("changed", "r0002/RAW-R0002-DA01-S00000.h5"),
                     ("extra", "r0002/RAW-R0002-DA03-S00000.h5"),
                     ("run_extra", "r0003")]
    every = runner.invoke(cli, ["verify", "--catalog", catalog_url, "--all"])
    assert every.exit_code == 1 and "r0003" not in every.output
    shutil.rmtree(root / "r0002")
    gone = runner.invoke(cli, ["verify", "--catalog", catalog_url, "--all", "--json"])
    assert [(d["kind"], os.path.relpath(d["path"], root)) for d in json.loads(gone.output)] == [
        ("missing", "r0001/RAW-R0001-DA02-S00000.h5"), ("run_missing", "r0002")]
    assert runner.invoke(cli, ["verify", "--catalog", catalog_url]).exit_code == 2


def test_main_returns_the_status_as_extra_data(tmp_path, capsys) -> None:
    from extra_catalog.validation import main

    assert main([str(faulty_file(tmp_path / "bad", "index_gaps"))]) == 1
    assert "Gaps (1) in index" in capsys.readouterr().out
    assert main([str(faulty_file(tmp_path / "good"))]) is None
    assert capsys.readouterr().out.endswith("No problems found\n")
    assert main(["--skip", "nonsense", str(tmp_path)]) == 1


def test_importing_the_command_loads_no_heavy_library() -> None:
    code = ("import sys, extra_catalog.cli.validate, extra_catalog.cli.problems, "
            "extra_catalog.cli.verify\n"
            "print(','.join(m for m in ('h5py', 'numpy', 'pandas', 'sqlalchemy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_xfel_index_problems_when_there_are_none(tmp_path, catalog_url) -> None:
    _run(tmp_path / "SPB" / "202601" / "p900001" / "raw" / "r0001")
    _crawl(catalog_url, tmp_path)
    for options in ([], ["--check", "index_*"], ["--summary"]):
        result = CliRunner().invoke(cli, ["problems", "--catalog", catalog_url, "--csv", *options])
        assert result.exit_code == 0, result.output
        assert len(result.output.splitlines()) == 1  # the header only
