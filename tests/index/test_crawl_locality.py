"""The crawler records where each file is stored and never opens a file only on tape."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from extra_catalog.catalog import load_run
from extra_catalog.catalog.locality import load_localities, record_localities
from extra_catalog.fileaccess.locality import pseudo_path
from extra_catalog.index.crawler import RETRY_MTIME, CrawlOptions, crawl
from extra_catalog.testing import write_run

NOW = CrawlOptions(settle=0, processes=2, timeout=20)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("locality_tree") / "exp"
    write_run(root / "SPB/202601/p900001/raw/r0001", n_trains=5, detector="AGIPD1M",
              n_modules=2, frames_per_train=1, frame_shape=(4, 4), processes=1)
    return root


@pytest.fixture
def run_dir(pristine, tmp_path) -> Path:
    root = tmp_path / "exp"
    shutil.copytree(pristine, root)
    path = root / "SPB/202601/p900001/raw/r0001"
    yield path
    for entry in path.iterdir():
        if entry.is_fifo():  # let a worker blocked on it go
            try:
                os.close(os.open(entry, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass


def _say(path: Path, state: str) -> None:
    Path(pseudo_path(path)).write_text(state)


def test_locality_is_recorded_and_tape_files_are_not_opened(catalog, run_dir):
    agipd0, agipd1, da01, da02 = sorted(run_dir.glob("*.h5"))
    _say(agipd0, "ONLINE")
    _say(agipd1, "NEARLINE")
    _say(da01, "UNAVAILABLE")
    summary = crawl(catalog, [run_dir], NOW)
    assert (summary.files_failed, summary.files_not_on_disk, summary.exit_status) == (0, 2, 0)
    assert "2 not on disk" in summary.text()
    stored = load_run(catalog, str(run_dir))
    # Valid files: had they been opened, they would have records.
    assert {Path(u.path).name: u.problem.check for u in stored.unreadable} == {
        agipd1.name: "on_tape", da01.name: "unavailable"}
    assert all(u.mtime == RETRY_MTIME for u in stored.unreadable)
    assert "only on tape" in stored.unreadable[0].problem.message
    facts = load_localities(catalog, run_dir)
    assert {n: (f.locality, f.readable) for n, f in facts.items()} == {
        agipd0.name: ("ONLINE", True), agipd1.name: ("NEARLINE", False),
        da01.name: ("UNAVAILABLE", False), da02.name: ("NOT_ON_DCACHE", True)}
    assert all(f.checked_at is not None for f in facts.values())


def test_a_file_staged_from_tape_is_read_by_the_next_crawl(catalog, run_dir):
    tape = sorted(run_dir.glob("*.h5"))[1]
    _say(tape, "NEARLINE")
    crawl(catalog, [run_dir], NOW)
    first = load_localities(catalog, run_dir)[tape.name].checked_at
    again = crawl(catalog, [run_dir], NOW)  # still on tape: checked again, cheaply
    assert (again.files_changed, again.files_not_on_disk) == (1, 1)
    assert load_localities(catalog, run_dir)[tape.name].checked_at > first
    _say(tape, "ONLINE_AND_NEARLINE")  # staged: the file itself did not change
    staged = crawl(catalog, [run_dir], NOW)
    assert (staged.files_changed, staged.files_not_on_disk, staged.files_failed) == (1, 0, 0)
    fact = load_localities(catalog, run_dir)[tape.name]
    assert (fact.locality, fact.state) == ("ONLINE_AND_NEARLINE", "ok")
    unchanged = crawl(catalog, [run_dir], NOW)
    assert unchanged.files_unchanged == 4
    assert load_localities(catalog, run_dir)[tape.name].locality == "ONLINE_AND_NEARLINE"


def test_a_hanging_pseudo_file_times_out(catalog, run_dir):
    da02 = sorted(run_dir.glob("*.h5"))[3]
    os.mkfifo(pseudo_path(da02))
    start = time.monotonic()
    summary = crawl(catalog, [run_dir], CrawlOptions(settle=0, processes=2, timeout=1))
    assert time.monotonic() - start < 30  # safety net: the read would block forever
    assert summary.files_failed == 1 and "did not finish within 1 s" in summary.problems[0]
    fact = load_localities(catalog, run_dir)[da02.name]
    assert (fact.locality, fact.readable) == ("TIMEOUT", False)


def test_an_unknown_locality_is_not_opened(catalog, run_dir):
    da01 = sorted(run_dir.glob("*.h5"))[2]
    _say(da01, "LOST")
    crawl(catalog, [run_dir], NOW)
    (bad,) = load_run(catalog, str(run_dir)).unreadable
    assert bad.problem.check == "locality_unknown" and "'LOST'" in bad.problem.message


def test_record_localities_ignores_unknown_names_and_can_clear(catalog, run_dir):
    crawl(catalog, [run_dir], NOW)
    name = sorted(run_dir.glob("*.h5"))[0].name
    record_localities(catalog, run_dir, {name: None, "RAW-R0001-XX-S00000.h5": "ONLINE"})
    fact = load_localities(catalog, run_dir)[name]
    assert (fact.locality, fact.checked_at) == (None, None)
    assert load_localities(catalog, run_dir / "elsewhere") == {}


def test_check_locality_asks_again_about_unchanged_files_on_dcache(catalog, run_dir):
    agipd0, agipd1, da01, da02 = sorted(run_dir.glob("*.h5"))
    _say(agipd0, "ONLINE")
    _say(agipd1, "ONLINE")
    crawl(catalog, [run_dir], NOW)
    _say(agipd0, "NEARLINE")  # moved to tape: the file itself is unchanged
    os.unlink(pseudo_path(agipd1))
    os.mkfifo(pseudo_path(agipd1))  # dCache does not answer about this one
    plain = crawl(catalog, [run_dir], NOW)
    assert plain.localities_checked == 0
    assert load_localities(catalog, run_dir)[agipd0.name].locality == "ONLINE"
    options = CrawlOptions(settle=0, processes=2, timeout=1, check_locality=True)
    again = crawl(catalog, [run_dir], options)
    # Only the files on dCache are asked; GPFS files never move to tape.
    assert again.localities_checked == 2 and again.files_unchanged == 4
    assert "locality checked again: 2" in again.text()
    facts = load_localities(catalog, run_dir)
    assert {n: f.locality for n, f in facts.items()} == {
        agipd0.name: "NEARLINE", agipd1.name: "TIMEOUT", da01.name: "NOT_ON_DCACHE",
        da02.name: "NOT_ON_DCACHE"}
    assert facts[agipd0.name].state == "ok"  # its metadata are still right


def test_check_locality_fills_files_never_checked(catalog, run_dir):
    crawl(catalog, [run_dir], NOW)
    names = [p.name for p in sorted(run_dir.glob("*.h5"))]
    record_localities(catalog, run_dir, dict.fromkeys(names))  # as after an upgrade
    summary = crawl(catalog, [run_dir], CrawlOptions(settle=0, processes=1,
                                                     check_locality=True))
    assert summary.localities_checked == 4
    assert {f.locality for f in load_localities(catalog, run_dir).values()} == {"NOT_ON_DCACHE"}


def test_crawl_command_check_locality(run_dir, tmp_path):
    import json

    from click.testing import CliRunner

    from extra_catalog.cli.xfel_index import cli

    _say(sorted(run_dir.glob("*.h5"))[0], "ONLINE")
    url = str(tmp_path / "cat.sqlite")
    args = ["crawl", str(run_dir), "--catalog", url, "--settle", "0", "--json", "-j", "1"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    result = CliRunner().invoke(cli, args + ["--check-locality"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["localities_checked"] == 1
