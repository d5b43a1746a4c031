"""A whole, unchanged catalogued run makes its files and sources when first used."""

from __future__ import annotations

import gc
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from extra_catalog import RunDirectory, by_index
from extra_catalog.catalog import open_catalog
from extra_catalog.fileaccess import hdf5_open_count
from extra_catalog.fileaccess.handles import get_handle_cache
from extra_catalog.index.crawler import CrawlOptions, crawl
from extra_catalog.reader.catalogued import LazySources
from extra_catalog.testing import write_run


@pytest.fixture(scope="module")
def pristine_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("runs") / "p900001" / "raw" / "r0005"
    write_run(run_dir, run=5, n_trains=30, trains_per_sequence=10, detector="AGIPD1M",
              n_modules=2, frames_per_train=2, frame_shape=(8, 8))
    return run_dir


@pytest.fixture
def crawled_run(pristine_run, tmp_path) -> tuple[Path, str]:
    run_dir = tmp_path / "p900001" / "raw" / "r0005"
    shutil.copytree(pristine_run, run_dir)
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    from extra_catalog.catalog import init_catalog

    init_catalog(url)
    with open_catalog(url) as cat:
        crawl(cat, [run_dir], CrawlOptions(settle=0, processes=1))
    return run_dir, url


def _names(files) -> list[str]:
    return [os.path.basename(f.filename) for f in files]


def _fresh(run_dir: Path, url: str):
    gc.collect()  # no FileAccess left from an earlier open to be shared
    return RunDirectory(run_dir, catalog=url)


def test_opening_makes_no_file_or_source_object(crawled_run):
    run = _fresh(*crawled_run)
    assert isinstance(run._sources_data, LazySources)
    assert run._catalogued.made_files() == []
    assert len(run.train_ids) == 30 and len(run.all_sources) > 4
    assert "SPB_DET_AGIPD1M-1/DET/0CH0:xtdf" in run.detector_sources
    assert run._catalogued.made_files() == []  # names and trains: from the outline


def test_a_source_makes_only_the_files_holding_it(crawled_run):
    run_dir, url = crawled_run
    run = _fresh(run_dir, url)
    before = hdf5_open_count()
    counts = run["SPB_DET_AGIPD1M-1/DET/0CH0:xtdf", "image.data"].data_counts(labelled=False)
    assert hdf5_open_count() == before and counts.sum() == 60
    assert _names(run._catalogued.made_files()) == [
        f"RAW-R0005-AGIPD00-S0000{i}.h5" for i in range(3)]
    data = run["SPB_DET_AGIPD1M-1/DET/0CH0:xtdf", "image.data"][by_index[12:14]].ndarray()
    assert data.shape == (4, 2, 8, 8)  # 2 trains x 2 frames; raw AGIPD: data and gain planes
    assert hdf5_open_count() == before + 1  # one sequence file, to read its data


def test_lazy_and_eager_opening_agree(crawled_run):
    run_dir, url = crawled_run
    lazy, eager = _fresh(run_dir, url), RunDirectory(run_dir, catalog=None)
    assert lazy.control_sources == eager.control_sources
    assert lazy.instrument_sources == eager.instrument_sources
    assert lazy.legacy_sources == eager.legacy_sources == {}
    assert sorted(lazy.selection) == sorted(eager.selection)
    for source in sorted(eager.all_sources):
        mine, theirs = lazy[source], eager[source]
        assert _names(mine.files) == _names(theirs.files), source
        assert (mine.section, mine.canonical_name, mine.train_ids) == (
            theirs.section, theirs.canonical_name, theirs.train_ids)
        assert mine.keys() == theirs.keys()
    assert _names(lazy.files) == _names(eager.files)
    picked = [("SPB_DET_AGIPD1M-1/DET/1CH0:xtdf", "image.*"), ("*XGM*", "*")]
    a, b = lazy.select(picked).select_trains(by_index[5:25]), eager.select(picked)[5:25]
    assert _names(a.files) == _names(b.files) and a.selection == b.selection
    assert [tid for tid, _ in a.trains()] == [tid for tid, _ in b.trains()]
    np.testing.assert_array_equal(
        a["SPB_DET_AGIPD1M-1/DET/1CH0:xtdf", "image.data"].ndarray(),
        b["SPB_DET_AGIPD1M-1/DET/1CH0:xtdf", "image.data"].ndarray())


def test_selecting_does_not_make_every_file(crawled_run):
    run = _fresh(*crawled_run)
    sel = run.select("SPB_DET_AGIPD1M-1/DET/1CH0:xtdf", "image.data")
    assert _names(sel.files) == [f"RAW-R0005-AGIPD01-S0000{i}.h5" for i in range(4)]
    assert len(run._catalogued.made_files()) == 4
    aliased = run.with_aliases({"mod1": "SPB_DET_AGIPD1M-1/DET/1CH0:xtdf"})
    assert aliased.alias["mod1"].source == "SPB_DET_AGIPD1M-1/DET/1CH0:xtdf"
    assert len(run._catalogued.made_files()) == 4  # aliases made nothing more


def test_a_lazy_run_pickles_whole(crawled_run):
    run_dir, url = crawled_run
    run = _fresh(run_dir, url)
    restored = pickle.loads(pickle.dumps(run))
    assert restored._catalogued is None and type(restored._sources_data) is dict
    assert _names(restored.files) == _names(RunDirectory(run_dir, catalog=None).files)
    assert restored.all_sources == run.all_sources


def test_leaving_the_with_block_closes_the_files_that_were_opened(crawled_run):
    run_dir, url = crawled_run
    cache = get_handle_cache()
    with _fresh(run_dir, url) as run:
        run["SPB_DET_AGIPD1M-1/DET/0CH0:xtdf", "image.data"][by_index[0:2]].ndarray()
        (opened,) = [f for f in run._catalogued.made_files() if cache.is_open(f.filename)]
    assert not cache.is_open(opened.filename)
    assert len(run._catalogued.made_files()) == 3  # closing made no other file


def test_details_come_for_the_files_used_in_as_few_round_trips_as_possible(crawled_run,
                                                                          monkeypatch):
    from extra_catalog.catalog.quickread import QuickCatalog

    asked = []
    real = QuickCatalog.source_details

    def spy(self, run, source=None, files=None, cache=None):
        asked.append(files)
        return real(self, run, source, files, cache)

    monkeypatch.setattr(QuickCatalog, "source_details", spy)
    run = _fresh(*crawled_run)
    source = "SPB_DET_AGIPD1M-1/DET/1CH0:xtdf"  # in 4 sequence files
    kd = run[source, "image.data"]
    assert asked == [["RAW-R0005-AGIPD01-S00000.h5"]]  # the keys: from one file
    data = kd[by_index[12:25]].ndarray()  # trains in the 2nd and 3rd files: both at once
    assert asked[1:] == [["RAW-R0005-AGIPD01-S00001.h5", "RAW-R0005-AGIPD01-S00002.h5"]]
    assert data.shape == (26, 2, 8, 8)
    kd.data_counts()  # the whole source: the one file left
    assert asked[2:] == [["RAW-R0005-AGIPD01-S00003.h5"]] and kd.data_counts().sum() == 60


def test_sources_about_to_be_walked_are_fetched_whole_in_one_round_trip(crawled_run,
                                                                      monkeypatch):
    from extra_catalog.catalog.quickread import QuickCatalog

    asked = []
    real = QuickCatalog.source_details

    def spy(self, run, source=None, files=None, cache=None):
        asked.append((source, len(files or ())))
        return real(self, run, source, files, cache)

    monkeypatch.setattr(QuickCatalog, "source_details", spy)
    run = _fresh(*crawled_run)
    modules = sorted(s for s in run.instrument_sources if "AGIPD" in s)
    run._prefetch_details(modules)
    assert asked == [(modules[0], 3), (modules[1], 4)]  # every file of each
    for source in modules:
        run[source, "image.data"].data_counts()
    assert len(asked) == 2  # nothing more to fetch


def test_selections_of_a_checked_run_are_not_checked_again(crawled_run, monkeypatch):
    from extra_catalog.reader import collection

    run = RunDirectory(crawled_run[0], catalog=None)  # checked when opened

    def refuse(*args):
        raise AssertionError("conflict check repeated")

    monkeypatch.setattr(collection, "_repeats_a_train", refuse)
    sel = run.select("*XGM*").select_trains(by_index[3:9])
    assert len(sel.train_ids) == 6 and sel.all_sources
    with pytest.raises(AssertionError, match="repeated"):
        run.union(RunDirectory(crawled_run[0], catalog=None))  # a union is checked


def test_a_catalogued_run_with_legacy_names_lists_and_reads_them(tmp_path):
    from extra_catalog.catalog import init_catalog
    from extra_catalog.testing import XGM, write_file

    run_dir = tmp_path / "p900001" / "raw" / "r0007"
    xgm, old = "SA1_XTD2_XGM/DOOCS/MAIN", "OLD_XGM/DOOCS/MAIN:output"
    for seq in range(2):
        write_file(run_dir / f"RAW-R0007-DA01-S{seq:05d}.h5", [XGM(xgm)], run=7, sequence=seq,
                   first_train_id=10000 + 10 * seq, legacy_names={old: f"{xgm}:output"})
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    init_catalog(url)
    with open_catalog(url) as cat:
        crawl(cat, [run_dir], CrawlOptions(settle=0, processes=1))
    run, eager = _fresh(run_dir, url), RunDirectory(run_dir, catalog=None)
    assert run.legacy_sources == eager.legacy_sources == {old: f"{xgm}:output"}
    assert run.all_sources == eager.all_sources
    with pytest.warns(DeprecationWarning, match="legacy name"):
        data = run[old, "data.intensityTD"].ndarray()
    np.testing.assert_array_equal(data, eager[f"{xgm}:output", "data.intensityTD"].ndarray())


def test_a_file_removed_after_a_lazy_open_is_named_when_read(crawled_run):
    from extra_catalog.exceptions import DataFileNotFoundError

    run_dir, url = crawled_run
    run = _fresh(run_dir, url)
    gone = run_dir / "RAW-R0005-AGIPD01-S00001.h5"
    gone.unlink()
    kd = run["SPB_DET_AGIPD1M-1/DET/1CH0:xtdf", "image.data"]
    assert kd.shape[0] == 60  # metadata: from the catalogue, as opened
    with pytest.raises(DataFileNotFoundError, match="AGIPD01-S00001"):
        kd[by_index[12:14]].ndarray()
    assert kd[by_index[0:2]].ndarray().shape == (4, 2, 8, 8)  # the other files still read


def test_sources_made_in_bulk_equal_those_the_constructor_makes(crawled_run):
    from extra_catalog.reader.sourcedata import SourceData

    run = _fresh(*crawled_run)
    name = "SPB_DET_AGIPD1M-1/DET/0CH0:xtdf"
    made = run[name]
    by_hand = SourceData(name, sel_keys=None, train_ids=run._tids, files=made.files,
                         section="INSTRUMENT", is_single_run=True,
                         inc_suspect_trains=run.inc_suspect_trains)
    assert vars(made) == vars(by_hand)
