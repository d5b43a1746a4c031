"""The crawler against generated trees, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from extra_catalog.catalog import file_stats, list_runs, load_run
from extra_catalog.fileaccess import FileAccess, hdf5_open_count
from extra_catalog.index.crawler import CrawlError, CrawlOptions, crawl
from extra_catalog.testing import RunSpec, ProposalSpec, append_sequence, grow_file, write_tree

NOW = CrawlOptions(settle=0, processes=2, timeout=20)

SMALL_TREE = (
    ProposalSpec(900001, "SPB", "202601", (
        RunSpec(1, n_trains=20),
        RunSpec(2, format_version="1.1", n_trains=15, suspect_train_ids=(3,)),
    )),
    ProposalSpec(900002, "FXE", "202602", (
        RunSpec(1, detector="AGIPD1M", n_modules=2, frames_per_train=2, n_trains=12,
                trains_per_sequence=6, proc=True),
    )),
)


@pytest.fixture(scope="module")
def pristine_tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pristine") / "exp"
    write_tree(root, spec=SMALL_TREE)
    return root


@pytest.fixture
def tree(pristine_tree, tmp_path) -> Path:
    """A private copy of the small tree, which a test may change."""
    root = tmp_path / "exp"
    shutil.copytree(pristine_tree, root)
    return root


def _runs(catalog) -> dict[tuple[int, int, str], object]:
    return {(r.info.proposal, r.info.run, r.info.data_category): r for r in list_runs(catalog)}


def _h5_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.h5"))


def test_cold_crawl_records_every_run_and_file(catalog, tree):
    summary = crawl(catalog, [tree], NOW)
    assert (summary.runs_new, summary.files_new, summary.files_failed) == (4, len(_h5_files(tree)), 0)
    assert summary.exit_status == 0
    runs = _runs(catalog)
    assert sorted(runs) == [(900001, 1, "raw"), (900001, 2, "raw"),
                            (900002, 1, "proc"), (900002, 1, "raw")]
    r1 = runs[(900001, 1, "raw")].info
    assert (r1.instrument, r1.cycle, r1.n_trains) == ("SPB", "202601", 20)
    assert r1.last_train - r1.first_train == 19
    # the 1.1 run has one suspect train, left out of the good-train count
    assert runs[(900001, 2, "raw")].info.n_trains == 14


def test_stored_records_equal_what_the_files_say(catalog, tree):
    crawl(catalog, [tree], NOW)
    run_dir = tree / "FXE/202602/p900002/raw/r0001"
    stored = load_run(catalog, str(run_dir))
    assert len(stored.files) == len(list(run_dir.glob("*.h5")))
    for record in stored.files:
        assert record == FileAccess(record.path).to_record()


def test_recrawl_of_an_unchanged_tree_reads_no_file(catalog, tree):
    crawl(catalog, [tree], NOW)
    # Overwrite every file with garbage of the same size, keeping mtime and
    # inode: a crawler that read any of them would record a problem.
    for path in _h5_files(tree):
        st = path.stat()
        with open(path, "r+b") as f:
            f.write(b"\0" * st.st_size)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    opens = hdf5_open_count()
    summary = crawl(catalog, [tree], NOW)
    assert hdf5_open_count() == opens
    assert summary.runs_unchanged == 4
    assert summary.files_unchanged == len(_h5_files(tree))
    assert (summary.files_new, summary.files_changed, summary.files_failed) == (0, 0, 0)
    assert summary.problems == []


def test_changed_new_and_removed_files_are_handled_incrementally(catalog, tree):
    crawl(catalog, [tree], NOW)
    run_dir = tree / "SPB/202601/p900001/raw/r0001"
    files = sorted(run_dir.glob("*.h5"))
    grow_file(files[0], n_trains=5)
    new = append_sequence(run_dir, n_trains=4, aggregators=[files[-1].name.split("-")[2]])
    files[-1].unlink()
    summary = crawl(catalog, [tree], NOW)
    assert (summary.runs_changed, summary.runs_unchanged) == (1, 3)
    assert (summary.files_changed, summary.files_new, summary.files_removed) == (1, 1, 1)
    stored = load_run(catalog, str(run_dir))
    assert sorted(Path(r.path).name for r in stored.files) == sorted(
        p.name for p in run_dir.glob("*.h5"))
    assert stored.file(files[0].name) == FileAccess(str(files[0])).to_record()
    assert stored.file(new[0].name) == FileAccess(str(new[0])).to_record()
    assert stored.info.n_trains >= 20


def test_removed_run_and_proposal_filter(catalog, tree):
    crawl(catalog, [tree], NOW)
    shutil.rmtree(tree / "FXE/202602/p900002/proc/r0001")
    # a filtered crawl leaves other proposals alone
    summary = crawl(catalog, [tree], CrawlOptions(settle=0, processes=1, proposals=[900001]))
    assert summary.runs_removed == 0 and (900002, 1, "proc") in _runs(catalog)
    summary = crawl(catalog, [tree], NOW)
    assert summary.runs_removed == 1
    assert (900002, 1, "proc") not in _runs(catalog)


def test_category_filter(catalog, tree):
    summary = crawl(catalog, [tree], CrawlOptions(settle=0, processes=1, categories=["proc"]))
    assert summary.runs_new == 1
    assert list(_runs(catalog)) == [(900002, 1, "proc")]


def test_runs_still_being_written_are_left_for_later(catalog, tree):
    summary = crawl(catalog, [tree], CrawlOptions(settle=3600, processes=1))
    assert summary.runs_deferred == 4 and summary.runs_new == 0
    assert list_runs(catalog) == []


def test_bad_files_are_recorded_and_the_crawl_goes_on(catalog, tree):
    run_dir = tree / "SPB/202601/p900001/raw/r0001"
    good = sorted(run_dir.glob("*.h5"))
    (run_dir / "RAW-R0001-DA09-S00000.h5").write_bytes(b"not an HDF5 file at all" * 100)
    truncated = run_dir / "RAW-R0001-DA08-S00000.h5"
    truncated.write_bytes(good[0].read_bytes()[:3000])
    os.symlink(run_dir / "missing.h5", run_dir / "RAW-R0001-DA07-S00000.h5")
    os.mkfifo(run_dir / "RAW-R0001-DA06-S00000.h5")  # opening it would block forever
    summary = crawl(catalog, [tree], CrawlOptions(settle=0, processes=2, timeout=2))
    assert summary.exit_status == 1
    assert summary.files_failed == 4
    assert summary.runs_new == 4
    text = "\n".join(summary.problems)
    for name, why in [("DA09", "HDF5"), ("DA08", ""), ("DA07", "broken symbolic link"),
                      ("DA06", "not a regular file")]:
        assert any(name in p and why in p for p in summary.problems), (name, text)
    stored = load_run(catalog, str(run_dir))
    assert sorted(Path(u.path).name for u in stored.unreadable) == [
        "RAW-R0001-DA06-S00000.h5", "RAW-R0001-DA07-S00000.h5",
        "RAW-R0001-DA08-S00000.h5", "RAW-R0001-DA09-S00000.h5"]
    assert len(stored.files) == len(good)
    # unreadable files are not tried again until they change
    again = crawl(catalog, [tree], CrawlOptions(settle=0, processes=2, timeout=2))
    assert again.files_failed == 0 and again.runs_unchanged == 4
    assert set(file_stats(catalog, str(run_dir))) >= {p.name for p in good}


def test_a_root_that_is_not_a_directory_is_refused(catalog, tmp_path):
    with pytest.raises(CrawlError, match="not a directory"):
        crawl(catalog, [tmp_path / "nowhere"], NOW)


def _hang_on_da01(path: str):
    import time

    from extra_catalog.index.extract import read_file

    if "DA01-S00000" in path:
        time.sleep(120)  # like a file whose data sits on tape
    return read_file(path)


def test_a_file_that_hangs_is_recorded_after_its_timeout(catalog, tree, monkeypatch):
    # Workers are forked, so they inherit the patched reader.
    monkeypatch.setattr("extra_catalog.index.crawler.read_file", _hang_on_da01)
    summary = crawl(catalog, [tree / "SPB/202601/p900001/raw/r0001"],
                    CrawlOptions(settle=0, processes=2, timeout=1.5))
    assert summary.files_failed == 1
    (problem,) = summary.problems
    assert "RAW-R0001-DA01-S00000.h5" in problem and "did not finish within 1.5 s" in problem
    stored = load_run(catalog, str(tree / "SPB/202601/p900001/raw/r0001"))
    assert [u.problem.check for u in stored.unreadable] == ["timeout"]
    assert len(stored.files) == len(list((tree / "SPB/202601/p900001/raw/r0001").glob("*.h5"))) - 1
    # it is tried again by the next crawl (it may have come back from tape)
    monkeypatch.undo()
    again = crawl(catalog, [tree / "SPB/202601/p900001/raw/r0001"],
                  CrawlOptions(settle=0, processes=2, timeout=30))
    assert (again.files_changed, again.files_failed) == (1, 0)
    assert load_run(catalog, str(tree / "SPB/202601/p900001/raw/r0001")).unreadable == ()


def _deny_da02(path: str):
    """Reader whose HDF5 open fails with EACCES for one file (tests run as root)."""
    import h5py

    import extra_catalog.fileaccess.handles as handles
    from extra_catalog.index.extract import read_file

    def refuse_da02(p):
        if "DA02" in p:
            raise PermissionError(13, "Permission denied", p)
        return h5py.File(p, "r")

    handles._h5open = refuse_da02  # in the worker process only
    return read_file(path)


def test_a_file_without_read_permission_is_recorded(catalog, tree, monkeypatch):
    monkeypatch.setattr("extra_catalog.index.crawler.read_file", _deny_da02)
    run_dir = tree / "SPB/202601/p900001/raw/r0001"
    summary = crawl(catalog, [run_dir], CrawlOptions(settle=0, processes=1))
    (problem,) = summary.problems
    assert "RAW-R0001-DA02-S00000.h5" in problem and "permission denied" in problem
    assert [Path(u.path).name for u in load_run(catalog, str(run_dir)).unreadable] == [
        "RAW-R0001-DA02-S00000.h5"]


def test_file_links_leaving_the_root_are_not_followed(catalog, tree, tmp_path):
    run_dir = tree / "SPB/202601/p900001/raw/r0001"
    outside = tmp_path / "elsewhere.h5"
    shutil.copy(sorted(run_dir.glob("*.h5"))[0], outside)
    os.symlink(outside, run_dir / "RAW-R0001-DA05-S00000.h5")
    summary = crawl(catalog, [run_dir], NOW)
    (problem,) = summary.problems
    assert "DA05" in problem and "not followed" in problem
    # a link inside the crawled directory is followed
    inside = tree / "SPB/202601/p900001/raw/r0002"
    os.symlink(sorted(inside.glob("*.h5"))[0], run_dir / "RAW-R0001-DA06-S00000.h5")
    summary = crawl(catalog, [tree], NOW)
    assert not any("DA06" in p for p in summary.problems)


def test_a_moved_run_directory_replaces_its_old_entry(catalog, tree):
    crawl(catalog, [tree], NOW)
    old = tree / "SPB/202601/p900001/raw/r0002"
    new_prop = tree / "SPB/202609/p900001/raw"
    new_prop.mkdir(parents=True)
    old.rename(new_prop / "r0002")
    summary = crawl(catalog, [tree / "SPB/202609"], NOW)  # only the new location
    assert summary.runs_new == 1 and summary.runs_failed == 0
    (run,) = [r for r in list_runs(catalog) if (r.info.proposal, r.info.run) == (900001, 2)]
    assert run.info.path == str(new_prop / "r0002") and run.info.cycle == "202609"
