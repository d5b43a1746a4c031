"""Finding runs in a facility tree and diffing them against the catalogue (no HDF5 involved)."""

from __future__ import annotations

import os
from pathlib import Path

from extra_catalog.index.layout import find_runs, parse_run_dir
from extra_catalog.index.scan import FileStat, diff_run, is_settled, list_run_files


def _touch(path: Path, content: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def _tree(root: Path) -> None:
    for rel in [
        "SPB/202601/p900001/raw/r0001/RAW-R0001-DA01-S00000.h5",
        "SPB/202601/p900001/raw/r0002/RAW-R0002-DA01-S00000.h5",
        "SPB/202601/p900001/proc/r0001/CORR-R0001-AGIPD00-S00000.h5",
        "SPB/202601/p900001/usr/r0009/RAW-R0009-DA01-S00000.h5",
        "SPB/202601/p900001/scratch/r0010/RAW-R0010-DA01-S00000.h5",
        "FXE/202602/p900002/raw/r0005/RAW-R0005-DA01-S00000.h5",
    ]:
        _touch(root / rel)


def _rel(locs, root):
    return [str(loc.path.relative_to(root)) for loc in locs]


def test_parse_run_dir_reads_the_layout():
    loc = parse_run_dir("/exp/SPB/202601/p900001/raw/r0042")
    assert (loc.instrument, loc.cycle, loc.proposal, loc.category, loc.run) == (
        "SPB", "202601", 900001, "raw", 42)
    other = parse_run_dir("/tmp/somewhere/r0003")
    assert other.run == 3 and other.proposal is None and other.instrument is None


def test_find_runs_from_the_facility_root_skips_usr_and_scratch(tmp_path):
    _tree(tmp_path)
    assert _rel(find_runs(tmp_path), tmp_path) == [
        "FXE/202602/p900002/raw/r0005",
        "SPB/202601/p900001/proc/r0001",
        "SPB/202601/p900001/raw/r0001",
        "SPB/202601/p900001/raw/r0002",
    ]


def test_find_runs_from_every_level(tmp_path):
    _tree(tmp_path)
    spb = tmp_path / "SPB"
    assert len(list(find_runs(spb))) == 3
    assert len(list(find_runs(spb / "202601"))) == 3
    assert len(list(find_runs(spb / "202601/p900001"))) == 3
    assert _rel(find_runs(spb / "202601/p900001/proc"), tmp_path) == [
        "SPB/202601/p900001/proc/r0001"]
    (run,) = find_runs(spb / "202601/p900001/raw/r0002")
    assert (run.proposal, run.run, run.category) == (900001, 2, "raw")


def test_find_runs_filters(tmp_path):
    _tree(tmp_path)
    assert _rel(find_runs(tmp_path, categories=["proc"]), tmp_path) == [
        "SPB/202601/p900001/proc/r0001"]
    assert _rel(find_runs(tmp_path, proposals=[900002]), tmp_path) == [
        "FXE/202602/p900002/raw/r0005"]


def test_a_plain_directory_of_files_is_one_run(tmp_path):
    _touch(tmp_path / "myrun" / "RAW-R0007-DA01-S00000.h5")
    (loc,) = find_runs(tmp_path / "myrun")
    assert loc.path == tmp_path / "myrun" and loc.proposal is None


def test_links_leaving_the_root_are_not_followed(tmp_path):
    outside = tmp_path / "outside"
    _touch(outside / "p900003/raw/r0001/RAW-R0001-DA01-S00000.h5")
    root = tmp_path / "root"
    _tree(root)
    os.symlink(outside / "p900003", root / "SPB/202601/p900003")
    # a link that stays inside the root is followed
    os.symlink(root / "FXE/202602/p900002", root / "SPB/202601/p900002")
    skipped: list[Path] = []
    runs = _rel(find_runs(root, skipped_links=skipped), root)
    assert "SPB/202601/p900002/raw/r0005" in runs
    assert not any("p900003" in r for r in runs)
    assert skipped == [root / "SPB/202601/p900003"]


def test_list_run_files_reports_broken_links_and_ignores_others(tmp_path):
    run = tmp_path / "r0001"
    _touch(run / "RAW-R0001-DA01-S00000.h5", b"12345")
    _touch(run / "notes.txt")
    _touch(run / "overview.h5")
    os.symlink(tmp_path / "missing.h5", run / "RAW-R0001-DA02-S00000.h5")
    files = list_run_files(run)
    assert [f.name for f in files] == ["RAW-R0001-DA01-S00000.h5", "RAW-R0001-DA02-S00000.h5"]
    assert files[0].size == 5 and files[0].error is None
    assert files[1].error == "broken symbolic link"


def test_diff_run_sorts_files_into_new_changed_removed_unchanged():
    files = [
        FileStat("a.h5", 10, 1.0, 1),
        FileStat("b.h5", 10, 2.0, 2),
        FileStat("c.h5", 10, 3.0, 3),
        FileStat("d.h5", error="broken symbolic link"),
    ]
    catalogued = {"a.h5": (10, 1.0, 1), "b.h5": (10, 1.5, 2), "gone.h5": (1, 1.0, 9)}
    diff = diff_run(files, catalogued)
    assert [f.name for f in diff.unchanged] == ["a.h5"]
    assert [f.name for f in diff.changed] == ["b.h5"]
    assert [f.name for f in diff.new] == ["c.h5"]
    assert [f.name for f in diff.broken] == ["d.h5"]
    assert diff.removed == ["gone.h5"]
    assert [f.name for f in diff.to_read()] == ["c.h5", "b.h5"]
    assert not diff.up_to_date
    assert diff_run(files[:1], {"a.h5": (10, 1.0, 1)}).up_to_date


def test_a_replaced_file_with_a_new_inode_counts_as_changed():
    diff = diff_run([FileStat("a.h5", 10, 1.0, 2)], {"a.h5": (10, 1.0, 1)})
    assert [f.name for f in diff.changed] == ["a.h5"]


def test_settle_time():
    files = [FileStat("a.h5", 1, 1000.0, 1), FileStat("b.h5", 1, 1050.0, 2)]
    assert not is_settled(files, settle=60, now=1100.0)
    assert is_settled(files, settle=60, now=1110.0)
    assert is_settled(files, settle=0, now=1050.0)
