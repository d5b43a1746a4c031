"""Opening a run's files through the catalogue: fresh, stale, unknown, subsets, no catalogue."""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from extra_catalog.catalog import init_catalog, load_run, open_catalog
from extra_catalog.fileaccess import FileAccess, hdf5_open_count
from extra_catalog.index.crawler import CrawlOptions, crawl
from extra_catalog.reader.runfiles import open_run_files
from extra_catalog.testing import append_sequence, grow_file, write_run


@pytest.fixture(scope="module")
def pristine_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("runs") / "p900001" / "raw" / "r0003"
    write_run(run_dir, run=3, n_trains=30, trains_per_sequence=10, detector="AGIPD1M",
              n_modules=2, frames_per_train=2, frame_shape=(8, 8))
    return run_dir


@pytest.fixture
def run_dir(pristine_run, tmp_path) -> Path:
    out = tmp_path / "p900001" / "raw" / "r0003"
    shutil.copytree(pristine_run, out)
    return out


@pytest.fixture
def crawled(run_dir, catalog_url) -> str:
    with open_catalog(catalog_url) as cat:
        crawl(cat, [run_dir], CrawlOptions(settle=0, processes=1))
    return catalog_url


def _names(files):
    return [Path(f.filename).name for f in files]


def test_a_catalogued_run_opens_without_opening_hdf5_files(run_dir, crawled):
    before = hdf5_open_count()
    opened = open_run_files(run_dir, catalog=crawled)
    assert hdf5_open_count() == before
    assert opened.from_disk == [] and len(opened.from_catalog) == len(list(run_dir.glob("*.h5")))
    fa = opened.files[0]
    direct = FileAccess(str(fa.filename)).to_record()
    np.testing.assert_array_equal(fa.train_ids, FileAccess.from_record(direct).train_ids)
    assert fa.control_sources == FileAccess.from_record(direct).control_sources


def test_changed_and_new_files_are_read_again_and_recorded(run_dir, crawled):
    files = sorted(run_dir.glob("*.h5"))
    grow_file(files[0], n_trains=3)
    (new,) = append_sequence(run_dir, n_trains=4, aggregators=["DA01"])
    opened = open_run_files(run_dir, catalog=crawled)
    assert sorted(opened.from_disk) == sorted([files[0].name, new.name])
    assert opened.recorded
    by_name = {Path(f.filename).name: f for f in opened.files}
    assert len(by_name[files[0].name].train_ids) == len(FileAccess.open_fresh(files[0]).train_ids)
    with open_catalog(crawled) as cat:
        stored = load_run(cat, str(run_dir))
    assert stored.file(new.name) == FileAccess(str(new)).to_record()
    again = open_run_files(run_dir, catalog=crawled)
    assert again.from_disk == []


def test_a_file_touched_in_place_is_read_again(run_dir, crawled):
    unchanged = open_run_files(run_dir, catalog=crawled)
    assert unchanged.trains is not None  # the whole run, as catalogued
    assert unchanged.from_catalog == sorted(p.name for p in run_dir.glob("*.h5"))
    target = sorted(run_dir.glob("*.h5"))[1]
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # same size
    opened = open_run_files(run_dir, catalog=crawled, record=False)
    assert opened.from_disk == [target.name] and opened.trains is None
    assert len(opened.files) == len(unchanged.files)


def test_an_unknown_run_is_read_from_disk_and_recorded_whole(run_dir, tmp_path):
    url = str(tmp_path / "cat.sqlite")
    init_catalog(url)
    opened = open_run_files(run_dir, catalog=url)
    assert opened.from_catalog == [] and opened.recorded
    with open_catalog(url) as cat:
        stored = load_run(cat, str(run_dir))
    assert len(stored.files) == len(list(run_dir.glob("*.h5")))
    assert stored.info.proposal == 900001 and stored.info.run == 3


def test_opening_a_subset_never_changes_the_catalogue_view_of_the_run(run_dir, tmp_path):
    url = str(tmp_path / "cat.sqlite")
    init_catalog(url)
    opened = open_run_files(run_dir, include="*DA*", catalog=url)
    assert all("DA" in n for n in _names(opened.files))
    assert not opened.recorded
    with open_catalog(url) as cat:
        from extra_catalog.catalog import list_runs

        assert list_runs(cat) == []
    kept = open_run_files(run_dir, file_filter=lambda paths: paths[:1], catalog=url)
    assert len(kept.files) == 1 and not kept.recorded


def test_no_catalogue_or_a_broken_one_never_stops_opening(run_dir, tmp_path):
    missing = open_run_files(run_dir, catalog=str(tmp_path / "nothing-here.sqlite"))
    assert len(missing.files) == len(list(run_dir.glob("*.h5")))
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"not a database at all")
    with pytest.warns(UserWarning, match="catalogue not used"):
        opened = open_run_files(run_dir, catalog=str(broken))
    assert len(opened.files) == len(missing.files)
    assert len(open_run_files(run_dir, catalog=None).files) == len(missing.files)


def test_recording_can_be_turned_off(run_dir, tmp_path, monkeypatch):
    url = str(tmp_path / "cat.sqlite")
    init_catalog(url)
    monkeypatch.setenv("EXTRA_CATALOG_RECORD", "0")
    assert not open_run_files(run_dir, catalog=url).recorded


def test_unusable_files_are_skipped_and_missing_directories_refused(run_dir, tmp_path, capsys):
    bad = run_dir / "RAW-R0003-DA07-S00000.h5"
    bad.write_bytes(b"garbage")
    opened = open_run_files(run_dir, catalog=None)
    assert bad.name not in _names(opened.files)
    assert f"Skipping file {bad}" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError):
        open_run_files(tmp_path / "nowhere", catalog=None)
    with pytest.raises(FileNotFoundError, match="No HDF5 files"):
        open_run_files(run_dir, include="*NOTHING*", catalog=None)


def test_an_sqlite_catalogue_opens_runs_without_importing_sqlalchemy(run_dir, crawled):
    """The outline is one SELECT through sqlite3; SQLAlchemy waits for details."""
    if not crawled.startswith("sqlite"):
        pytest.skip("SQLite only: a server goes through SQLAlchemy")
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from extra_catalog import RunDirectory\n"
        "from extra_catalog.fileaccess import hdf5_open_count\n"
        f"run = RunDirectory({str(run_dir)!r}, catalog={crawled!r})\n"
        "print(len(run.files), len(run.train_ids), hdf5_open_count(),"
        " 'sqlalchemy' in sys.modules)\n"
        "run['SA1_XTD2_XGM/DOOCS/MAIN', 'pulseEnergy.photonFlux'].shape\n"
        "print('sqlalchemy' in sys.modules, hdf5_open_count())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "EXTRA_CATALOG_RECORD": "0"})
    first, second = out.stdout.split("\n")[:2]
    n_files = len(list(run_dir.glob("*.h5")))
    assert first == f"{n_files} 30 0 False"
    assert second == "False 0"  # the source's details came through sqlite3 too


def test_the_catalogues_train_facts_serve_whole_runs_only(run_dir, crawled):
    from extra_catalog import RunDirectory

    whole = RunDirectory(run_dir, catalog=crawled)
    subset = RunDirectory(run_dir, include="*-S00000.h5", catalog=crawled)
    from_disk = RunDirectory(run_dir, include="*-S00000.h5", catalog=None)
    assert len(whole.train_ids) == 30
    assert subset.train_ids == from_disk.train_ids and len(subset.train_ids) == 10
    valid_only = RunDirectory(run_dir, catalog=crawled, inc_suspect_trains=False)
    assert valid_only.train_ids == RunDirectory(run_dir, catalog=None,
                                                inc_suspect_trains=False).train_ids


def test_a_catalogued_run_with_clashing_sequences_still_refuses_to_open(tmp_path, catalog_url):
    from extra_catalog import RunDirectory

    run_dir = tmp_path / "p900001" / "raw" / "r0009"
    write_run(run_dir, run=9, n_trains=40, trains_per_sequence=20,
              faults=["overlapping_sequences"])
    with open_catalog(catalog_url) as cat:
        crawl(cat, [run_dir], CrawlOptions(settle=0, processes=1))
    with pytest.raises(ValueError, match="conflicting data"):
        RunDirectory(run_dir, catalog=catalog_url)


def test_runs_catalogued_without_outlines_open_from_the_tables(run_dir, crawled):
    from sqlalchemy import delete

    from extra_catalog.catalog.models import RunOutline

    with open_catalog(crawled) as cat, cat.session_scope(write=True) as session:
        session.execute(delete(RunOutline))
    before = hdf5_open_count()
    opened = open_run_files(run_dir, catalog=crawled)
    assert hdf5_open_count() == before and opened.from_disk == []
    assert opened.trains is None  # no stored facts: the collection works them out
    with open_catalog(crawled) as cat:
        crawl(cat, [run_dir], CrawlOptions(settle=0, processes=1))  # builds the outline
    assert open_run_files(run_dir, catalog=crawled).trains is not None


def test_selecting_trains_decodes_the_train_ids_of_the_files_holding_them_only(run_dir,
                                                                             crawled):
    from extra_catalog import RunDirectory, by_id
    from extra_catalog.reader.keydata import only_files_with

    run = RunDirectory(run_dir, catalog=crawled)
    source = sorted(s for s in run.instrument_sources if "AGIPD" in s)[0]  # (module 0)
    files = run[source].files
    assert len(files) == 3  # three sequence files of 10 trains
    tid = run.train_ids[15]
    for f in files:  # the outline's ranges equal the decoded train IDs'
        lo, hi, good_lo, good_hi = f._head.train_range
        assert (lo, hi) == (f.train_ids.min(), f.train_ids.max())
        assert (good_lo, good_hi) == (f.valid_train_ids.min(), f.valid_train_ids.max())
    del run, files, f
    gc.collect()
    run = RunDirectory(run_dir, catalog=crawled)  # (fresh objects, nothing decoded)
    files = run[source].files
    kept = only_files_with(files, np.array([tid], dtype=np.uint64), True)
    assert [f.filename for f in kept] == [files[1].filename]
    assert ["train_ids" in vars(f) for f in files] == [False, True, False]
    data = run[source, "image.data"].select_trains(by_id[[tid]]).ndarray()
    assert data.shape[0] == 2  # frames of that one train
    assert only_files_with(files, np.array([10**9], dtype=np.uint64), True) == files[:1]


def test_equal_index_arrays_of_different_files_are_one_shared_read_only_array(run_dir, crawled):
    files = open_run_files(run_dir, catalog=crawled).files
    arrays = [arr for f in files if "AGIPD" in f.filename
              for src in f.instrument_sources for arr in f.get_index(src, "image")]
    by_content: dict[bytes, set[int]] = {}
    for arr in arrays:
        by_content.setdefault(arr.tobytes() + str(len(arr)).encode(), set()).add(id(arr))
    assert len(arrays) > 2 * len(by_content)  # the modules repeat their arrays...
    assert all(len(ids) == 1 for ids in by_content.values())  # ...and share them
    with pytest.raises(ValueError):
        arrays[0][0] = 5  # shared, so never writable


def _source_shape_in_child(run, path, queue) -> None:
    from extra_catalog.catalog.quickread import quick_catalog
    from extra_catalog.fileaccess import hdf5_open_count

    before = hdf5_open_count()
    shape = run["SA1_XTD2_XGM/DOOCS/MAIN", "pulseEnergy.photonFlux"].shape
    own = path is None or quick_catalog(path)._pid == os.getpid()
    queue.put((shape, hdf5_open_count() - before, own))


def test_a_forked_process_reads_the_catalogue_on_its_own_connection(run_dir, crawled):
    """SQLite connections must not cross a fork: the child opens its own."""
    import multiprocessing

    from extra_catalog import RunDirectory
    from extra_catalog.catalog.location import plain_sqlite_path
    from extra_catalog.catalog.quickread import quick_catalog

    run = RunDirectory(run_dir, catalog=crawled)
    path = plain_sqlite_path(crawled)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_source_shape_in_child, args=(run, path, queue))
    child.start()
    shape, opened, own = queue.get(timeout=60)
    child.join(60)
    assert child.exitcode == 0 and shape == (30,) and opened == 0 and own
    if path is not None:  # the parent's connection still works
        quick = quick_catalog(path)
        assert quick is not None and quick._pid == os.getpid()
        assert quick.outline(run_dir) is not None


def test_a_catalogue_that_cannot_be_written_still_serves_the_outline(run_dir, crawled,
                                                                    monkeypatch):
    """New files with a catalogue SQLAlchemy refuses (e.g. another revision): read, not recorded."""
    if not crawled.startswith("sqlite"):
        pytest.skip("SQLite only: a server is reached through SQLAlchemy alone")
    import warnings

    from extra_catalog.exceptions import CatalogError
    from extra_catalog.reader import runfiles

    def refused(url):
        raise CatalogError("catalogue is at revision 0001: run `xfel-index upgrade`")

    monkeypatch.setattr(runfiles, "shared_catalog", refused)
    (new,) = append_sequence(run_dir, n_trains=4, aggregators=["DA01"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opened = open_run_files(run_dir, catalog=crawled)
    assert opened.from_disk == [new.name] and not opened.recorded
    assert len(opened.from_catalog) == len(opened.files) - 1
