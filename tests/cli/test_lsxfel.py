"""lsxfel: files, runs and proposals, from the catalogue or from the files, with the same text."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from extra_catalog.cli.lsxfel import lsxfel


@pytest.fixture(scope="module")
def proposal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from extra_catalog.testing import write_run

    root = tmp_path_factory.mktemp("lsxfel") / "p900001"
    write_run(root / "raw" / "r0001", n_trains=12, trains_per_sequence=5, detector="AGIPD1M",
              n_modules=2, frame_shape=(4, 4), frames_per_train=2, n_control_sources=2)
    write_run(root / "raw" / "r0002", run=2, n_trains=7, n_control_sources=1)
    (root / "raw" / "r0003").mkdir()  # a run folder with nothing in it yet
    return root


@pytest.fixture
def no_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTRA_CATALOG_URL", str(tmp_path / "none.sqlite"))
    monkeypatch.setenv("EXTRA_CATALOG_RECORD", "0")


def _run(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(lsxfel, list(args))
    return result.exit_code, result.output.split("\n")


def test_run_directory_shows_info(proposal: Path, no_catalogue, capsys) -> None:
    from extra_catalog import RunDirectory

    code, lines = _run(str(proposal / "raw" / "r0001"))
    assert code == 0
    RunDirectory(proposal / "raw" / "r0001").info()
    assert lines[:2] == ["r0001 : Run directory", ""]
    assert lines[2:-1] == capsys.readouterr().out.split("\n")[:-1]


def test_source_and_detail_patterns(proposal: Path, no_catalogue) -> None:
    run = str(proposal / "raw" / "r0001")
    code, lines = _run(run, "-s", "XGM")
    assert code == 0 and lines[1] == "Showing 4 / 16 sources"
    assert "  - SPB_XTD9_XGM/DOOCS/MAIN" in lines
    code, lines = _run(run, "-d", "SA1*MAIN", "-c")
    assert lines[1] == "Showing 1 / 16 sources"
    assert "    - Control keys (1 entry per train):" in lines
    code, lines = _run(run, "-s", "NOPE")
    assert code == 1


def test_proposal_and_run_summaries(proposal: Path, no_catalogue) -> None:
    code, lines = _run(str(proposal))
    # Trains from the shortest group of sequence files; detector files counted apart.
    assert lines[:6] == ["p900001 : Proposal directory", "", "p900001/raw/",
                         "  r0001 : Run of   12 trains, with   6 detector files and   6 others",
                         "  r0002 : Run of    7 trains, with   0 detector files and   2 others",
                         f"  r0003 : No data files recognised in {proposal / 'raw' / 'r0003'}"]
    assert code == 2  # the empty run folder
    code, lines = _run(str(proposal / "raw" / "r0002"), str(proposal / "raw" / "r0001"))
    assert code == 0 and lines[0].startswith("r0002 : Run of    7 trains")


def test_files_and_bad_paths(proposal: Path, no_catalogue, tmp_path: Path) -> None:
    first = str(sorted((proposal / "raw" / "r0002").glob("*.h5"))[0])
    code, lines = _run(first)
    assert code == 0 and lines[:3] == [Path(first).name + " : Data file", "",
                                       "# of trains:    7"]
    assert _run(first, first)[1][:2] == [Path(first).name + " : Data file",
                                          "  7 trains, 8 sources"]
    (tmp_path / "notes.txt").write_text("hello")
    assert _run(str(tmp_path / "notes.txt")) == (2, ["notes.txt : Unrecognised file", ""])
    missing = str(tmp_path / "missing")
    assert _run(missing) == (2, [f"{missing} : File/folder not found", ""])


def test_catalogued_run_opens_no_file_and_says_the_same(proposal: Path, no_catalogue,
                                                         tmp_path: Path, monkeypatch) -> None:
    from extra_catalog.catalog import init_catalog, open_catalog
    from extra_catalog.fileaccess import get_handle_cache, hdf5_open_count
    from extra_catalog.fileaccess.file_access import _registry
    from extra_catalog.index.crawler import CrawlOptions, crawl

    run = str(proposal / "raw" / "r0001")
    from_files = [_run(run, *opts) for opts in [(), ("-d", "*", "-c", "-g")]]
    from_files.append(_run(str(proposal)))
    url = str(tmp_path / "catalog.sqlite")
    init_catalog(url)
    with open_catalog(url) as cat:
        crawl(cat, [proposal], CrawlOptions(settle=0, processes=1))
    monkeypatch.setenv("EXTRA_CATALOG_URL", url)
    _registry.clear()
    get_handle_cache().close_all()
    before = hdf5_open_count()
    from_catalogue = [_run(run, *opts) for opts in [(), ("-d", "*", "-c", "-g")]]
    from_catalogue.append(_run(str(proposal)))
    assert hdf5_open_count() == before
    assert from_catalogue == from_files


def _hanging_read(path: str):
    """read_record, except that DA02 files hang as a file on tape would."""
    import time

    from extra_catalog.fileaccess.file_access import read_record

    if "-DA02-" in path:
        time.sleep(60)
    return read_record(path)


def test_a_hanging_file_is_skipped_after_the_timeout(proposal: Path, no_catalogue,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from extra_catalog.reader import runfiles

    monkeypatch.setattr(runfiles, "read_record", _hanging_read)
    started = time.monotonic()
    result = CliRunner().invoke(lsxfel, [str(proposal / "raw" / "r0002"), "--timeout", "1"])
    assert time.monotonic() - started < 30  # a safety net: the hang is 60 s
    assert result.exit_code == 0, result.output
    assert "RAW-R0002-DA02-S00000.h5\n  (error was: reading it took more than 1 s" in (
        result.stderr)
    assert "SA1_XTD2_XGM/DOOCS/MAIN" in result.stdout  # DA01's sources are listed
    assert "SPB_DA2_CTRL" not in result.stdout
