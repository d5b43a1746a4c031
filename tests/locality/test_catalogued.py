"""Locality from the catalogue: filters that ask dCache nothing, and runs on disk."""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

import pytest

from extra_catalog import RunDirectory, open_run
from extra_catalog import locality as lc
from extra_catalog.catalog import open_catalog
from extra_catalog.catalog.locality import load_localities, record_localities
from extra_catalog.fileaccess import hdf5_open_count
from extra_catalog.fileaccess.locality import pseudo_path
from extra_catalog.index.crawler import CrawlOptions, crawl
from extra_catalog.reader.filefilter import catalog_accept

from .conftest import release, set_locality

RUN = "SPB/202601/p900001/raw/r0001"


@pytest.fixture(scope="module")
def pristine_tree(tmp_path_factory, pristine_run) -> Path:
    root = tmp_path_factory.mktemp("catalogued_locality") / "exp"
    shutil.copytree(pristine_run, root / RUN)
    return root


@pytest.fixture
def tree(pristine_tree, tmp_path, catalog_url):
    """A crawled copy: AGIPD01 only on tape, AGIPD02 unavailable, the rest on disk.

    Afterwards every pseudo-file is a FIFO, so any attempt to ask dCache
    would block; the tests pass only if nothing asks.
    """
    root = tmp_path / "exp"
    shutil.copytree(pristine_tree, root)
    run_dir = root / RUN
    files = sorted(run_dir.glob("*.h5"))
    for path, state in zip(files, ["ONLINE", "NEARLINE", "UNAVAILABLE", "ONLINE_AND_NEARLINE"]):
        set_locality(path, state)
    with open_catalog(catalog_url) as cat:
        crawl(cat, [root], CrawlOptions(settle=0, processes=2, timeout=30))
    for path in files:
        Path(pseudo_path(path)).unlink(missing_ok=True)
        os.mkfifo(pseudo_path(path))
    yield root, run_dir, files
    for path in files:
        release(Path(pseudo_path(path)))


@pytest.fixture
def asked(monkeypatch) -> list[str]:
    """Paths whose locality was asked of dCache."""
    calls: list[str] = []
    real = lc.read_locality

    def counting(path):
        calls.append(os.fspath(path))
        return real(path)

    monkeypatch.setattr(lc, "read_locality", counting)
    monkeypatch.setattr(lc, "DEFAULT_TIMEOUT", 0.5)  # if asked anyway, fail fast
    return calls


def _names(run) -> list[str]:
    return sorted(Path(f.filename).name for f in run.files)


def test_lc_ondisk_is_answered_from_the_catalogue(tree, catalog_url, asked, capsys):
    _, run_dir, files = tree
    before = hdf5_open_count()
    with RunDirectory(run_dir, file_filter=lc.lc_ondisk, catalog=catalog_url) as run:
        assert _names(run) == [files[0].name, files[3].name, files[4].name]
    assert asked == [] and hdf5_open_count() == before
    assert capsys.readouterr().err == (f"Skipping file {files[1]}\n  (Only on tape)\n"
                                       f"Skipping file {files[2]}\n  (Unavailable)\n")


def test_open_run_with_lc_avail_and_a_partial(tree, catalog_url, asked, monkeypatch):
    root, _, files = tree
    monkeypatch.setenv("EXTRA_DATA_DATA_ROOT", str(root))
    # Reading the tape file would record it afresh, with its locality unknown
    # (it is being staged): keep the catalogue as the crawler left it here.
    monkeypatch.setenv("EXTRA_CATALOG_RECORD", "0")
    run = open_run(900001, 1, data="raw", file_filter=lc.lc_avail, catalog=catalog_url)
    assert _names(run) == sorted(f.name for i, f in enumerate(files) if i != 2)
    tape = functools.partial(lc.lc_match, accept=lc.ONTAPE)
    run = open_run(900001, 1, data="raw", file_filter=tape, catalog=catalog_url)
    assert _names(run) == [files[1].name, files[3].name]
    assert asked == []


def test_files_the_catalogue_has_no_answer_for_are_asked(tree, catalog_url, asked, capsys):
    _, run_dir, files = tree
    release(Path(pseudo_path(files[4])))
    Path(pseudo_path(files[4])).unlink()
    with open_catalog(catalog_url) as cat:
        record_localities(cat, run_dir, {files[4].name: None})  # never checked
    with RunDirectory(run_dir, file_filter=lc.lc_ondisk, catalog=catalog_url) as run:
        assert files[4].name in _names(run)
    assert asked == [str(files[4])]


def test_a_file_the_reader_records_has_an_unknown_locality(tree, catalog_url, asked):
    _, run_dir, files = tree
    tape = functools.partial(lc.lc_match, accept=lc.ONTAPE)
    with RunDirectory(run_dir, file_filter=tape, catalog=catalog_url) as run:
        assert _names(run) == [files[1].name, files[3].name]
    # The tape file was read (so staged) and recorded by the reader, which
    # does not ask dCache: the next filter asks about that file only.
    with open_catalog(catalog_url) as cat:
        assert load_localities(cat, run_dir)[files[1].name].locality is None
    with RunDirectory(run_dir, file_filter=tape, catalog=catalog_url) as run:
        assert _names(run) == [files[3].name]
    assert asked == [str(files[1])]


def test_any_callable_gets_paths_and_returns_a_list(tree, catalog_url, asked):
    _, run_dir, files = tree
    seen = []

    def every_other(paths: list[str]) -> list[str]:
        seen.append(paths)
        return paths[::2]

    with RunDirectory(run_dir, file_filter=every_other, catalog=catalog_url) as run:
        assert _names(run) == [f.name for f in files[::2]]
    assert seen == [[str(f) for f in files]]
    with RunDirectory(run_dir, file_filter=lc.lc_any, catalog=catalog_url) as run:
        assert len(run.files) == 5
    assert asked == []


def test_catalog_accept_recognises_only_locality_filters():
    assert catalog_accept(lc.lc_ondisk) == lc.ONDISK
    assert catalog_accept(lc.lc_avail) == lc.ONTAPE | lc.ONDISK
    assert catalog_accept(functools.partial(lc.lc_match, accept=lc.UNAVAIL)) == lc.UNAVAIL
    assert catalog_accept(lc.lc_any) is None
    assert catalog_accept(lambda paths: paths) is None
    assert catalog_accept(functools.partial(lc.lc_match, ["x"])) is None


def test_recorded_localities(tree, catalog_url):
    _, run_dir, files = tree
    with open_catalog(catalog_url) as cat:
        facts = load_localities(cat, run_dir)
    assert [facts[f.name].locality for f in files] == [
        "ONLINE", "NEARLINE", "UNAVAILABLE", "ONLINE_AND_NEARLINE", "NOT_ON_DCACHE"]
