"""A catalogued run opens from an outline; each source's details come from the catalogue on first use."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

import numpy as np
import pytest

from extra_catalog import RunDirectory, by_index
from extra_catalog.catalog import load_run, open_catalog
from extra_catalog.catalog import partial
from extra_catalog.catalog.partial import load_run_outline, load_source_details
from extra_catalog.exceptions import CatalogConnectionError, CorruptFileError
from extra_catalog.fileaccess import FileAccess, get_handle_cache, hdf5_open_count
from extra_catalog.index.crawler import CrawlOptions, crawl
from extra_catalog.reader.collection import _repeats_a_train
from extra_catalog.reader.details import CatalogDetails, shared_catalog
from extra_catalog.testing import grow_file, write_run

XGM = "SA1_XTD2_XGM/DOOCS/MAIN"
DET = "SPB_DET_AGIPD1M-1/DET/0CH0:xtdf"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("details") / "p900008" / "raw" / "r0002"
    write_run(run_dir, proposal=900008, run=2, n_trains=12, trains_per_sequence=4,
              detector="AGIPD1M", n_modules=2, frames_per_train=2, frame_shape=(4, 4),
              n_control_sources=20)
    return run_dir


@pytest.fixture
def catalogued(pristine, tmp_path, catalog_url) -> tuple[Path, str]:
    run_dir = tmp_path / "p900008" / "raw" / "r0002"
    shutil.copytree(pristine, run_dir)
    with open_catalog(catalog_url) as cat:
        crawl(cat, [run_dir], CrawlOptions(settle=0, processes=1))
    get_handle_cache().close_all()
    return run_dir, catalog_url


def _details(run) -> CatalogDetails:
    (details,) = {f._details for f in run.files}
    assert isinstance(details, CatalogDetails)
    return details


def test_opening_loads_no_source_details_and_a_key_loads_its_source_once(catalogued):
    run_dir, url = catalogued
    run = RunDirectory(run_dir, catalog=url)
    details = _details(run)
    assert details.queries == 0
    before = hdf5_open_count()
    xgm = run[XGM, "pulseEnergy.photonFlux"]
    assert details.queries == 1  # a control source: every file at once
    assert xgm.shape == (12,) and xgm.units == "μJ"
    run[XGM, "beamPosition.ixPos"].dtype  # same source: nothing more to fetch
    assert details.queries == 1
    assert hdf5_open_count() == before  # metadata came from the catalogue
    run[DET, "image.data"]
    assert details.queries == 2
    run[DET, "image.data"].shape
    # An instrument source on SQLite: the file asking first, then the rest at once.
    assert details.queries == (3 if url.startswith("sqlite") else 2)


def test_details_from_the_catalogue_equal_the_files_own_records(catalogued):
    run_dir, url = catalogued
    run = RunDirectory(run_dir, catalog=url)
    with open_catalog(url) as cat:
        stored = load_run(cat, str(run_dir))
    for fa in run.files:
        assert fa.to_record() == stored.file(Path(fa.filename).name)
        assert fa.to_record() == FileAccess.open_fresh(fa.filename).to_record()


def test_walking_every_source_switches_to_one_bulk_load(catalogued):
    run_dir, url = catalogued
    run = RunDirectory(run_dir, catalog=url)
    details = _details(run)
    sources = sorted(run.control_sources)
    assert len(sources) > CatalogDetails.BULK_AFTER + 2
    for source in sources:
        run[source].keys()
    assert details.queries == CatalogDetails.BULK_AFTER + 1
    for source in sorted(run.instrument_sources):
        run[source].keys()
    assert details.queries == CatalogDetails.BULK_AFTER + 1


def test_an_unreachable_catalogue_after_opening_costs_only_speed(catalogued, monkeypatch):
    run_dir, url = catalogued
    expected = RunDirectory(run_dir, catalog=None)[XGM, "pulseEnergy.photonFlux"].ndarray()
    gc.collect()  # drop the files read from disk, else the catalogued open shares them
    run = RunDirectory(run_dir, catalog=url)

    def unreachable(*args, **kwargs):
        raise CatalogConnectionError("the catalogue server does not answer")

    monkeypatch.setattr(partial, "load_source_details", unreachable)
    from extra_catalog.catalog.quickread import QuickCatalog

    monkeypatch.setattr(QuickCatalog, "source_details", lambda *args: None)  # (as on trouble)
    kd = run[XGM, "pulseEnergy.photonFlux"]
    np.testing.assert_array_equal(kd.ndarray(), expected)
    assert kd.units == "μJ"
    assert _details(run).queries == 1  # tried once, then the files answered


def test_a_file_changed_and_recrawled_after_opening_is_refused_by_name(catalogued):
    run_dir, url = catalogued
    run = RunDirectory(run_dir, catalog=url)
    target = sorted(run_dir.glob("*DA01-S00000.h5"))[0]
    grow_file(target, n_trains=2)
    with open_catalog(url) as cat:
        crawl(cat, [run_dir], CrawlOptions(settle=0, processes=1))
    with pytest.raises(CorruptFileError, match="open the run again") as info:
        run[XGM, "pulseEnergy.photonFlux"].ndarray()
    assert target.name in str(info.value)
    # Files the crawl left alone still get their details from the catalogue.
    assert run[DET, "image.data"][by_index[:2]].ndarray().shape == (4, 2, 4, 4)


def test_partial_loads_match_the_whole_run(catalogued):
    run_dir, url = catalogued
    with open_catalog(url) as cat:
        whole = load_run(cat, str(run_dir))
        outline = load_run_outline(cat, str(run_dir))
        one = load_source_details(cat, str(run_dir), DET)
    assert [f.path for f in outline.files] == [f.path for f in whole.files]
    for brief, full in zip(outline.files, whole.files):
        assert [(s.name, s.section) for s in brief.sources] == \
            [(s.name, s.section) for s in full.sources]
        assert all(not (s.keys or s.index_groups or s.run_values) for s in brief.sources)
        expected = {s.name: s for s in full.sources if s.name == DET}
        found = one.get(Path(full.path).name)
        if not expected:
            assert found is None  # only files with the source are listed
            continue
        assert found.stat == (full.size, full.mtime, full.inode)
        assert found.sources == expected
    assert len(one) == sum(1 for f in whole.files if any(s.name == DET for s in f.sources))


def test_one_open_catalogue_per_url(tmp_path, catalog_url):
    assert shared_catalog(catalog_url) is shared_catalog(catalog_url)
    assert shared_catalog(str(tmp_path / "none-here.sqlite")) is None


@pytest.mark.parametrize("per_file, repeats", [
    ([[1, 2, 3], [4, 5]], False),
    ([[4, 5], [1, 2, 3]], False),      # files in any order
    ([[1, 3, 2], [4]], False),          # out of order in a file, no repeat
    ([[1, 2, 3], [3, 4]], True),
    ([[1, 2, 3], [2]], True),
    ([[1, 1]], True),
    ([[], [7]], False),
])
def test_repeated_trains_are_found_whatever_the_order(per_file, repeats):
    arrays = [np.array(a, dtype=np.uint64) for a in per_file]
    assert _repeats_a_train(arrays) is repeats


def test_the_outline_names_the_files_a_source_is_looked_up_in(catalogued, monkeypatch):
    run_dir, url = catalogued
    if not url.startswith("sqlite"):
        pytest.skip("SQLite only: the quick reader takes the file names")
    from extra_catalog.catalog.quickread import QuickCatalog

    asked = []
    real = QuickCatalog.source_details

    def spy(self, run, source=None, files=None, cache=None):
        asked.append((source, files))
        return real(self, run, source, files, cache)

    monkeypatch.setattr(QuickCatalog, "source_details", spy)
    run = RunDirectory(run_dir, catalog=url)
    run[DET, "image.data"]
    holding = sorted(Path(f.filename).name for f in run[DET].files)
    assert asked == [(DET, holding[:1])] and len(holding) == 3  # the keys: one file
    run[DET, "image.data"][by_index[5:6]].ndarray()  # one train, in the second file
    assert asked[1:] == [(DET, holding[1:2])]
    run[DET, "image.data"].shape  # every file: the rest in one go
    assert asked[2:] == [(DET, holding[2:])]
    quick = QuickCatalog(Path(url.removeprefix("sqlite:///")))
    assert quick.source_details(run_dir, DET, holding) == quick.source_details(run_dir, DET)
    with open_catalog(url) as cat:  # ids as JSON lists (sqlite3) or in the SQL: the same
        assert quick.source_details(run_dir, XGM) == load_source_details(cat, run_dir, XGM)
    from extra_catalog.catalog.sourcerows import fetch_source_details

    with pytest.raises(ValueError, match="json_lists"):
        fetch_source_details(lambda sql, params: [], run_dir, DET, holding)
    assert quick.source_details(run_dir, DET, holding[:1]).keys() == {holding[0]}


def test_the_details_statements_give_the_columns_their_row_types_were_made_for(catalogued):
    run_dir, url = catalogued
    if not url.startswith("sqlite"):
        pytest.skip("SQLite only: the quick reader prepares its row types")
    import sqlite3

    from extra_catalog.catalog import sourcerows as sr

    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    statements = [(sr._SOURCES_IN_FILES, {"path": str(run_dir), "name": DET, "files": "[]"}),
                  (sr._SOURCES_OF_ONE, {"path": str(run_dir), "name": DET}),
                  (sr._SOURCES_OF_ALL, {"path": str(run_dir)})]
    for sql, params in statements:
        described = tuple(d[0] for d in conn.execute(sql, params).description)
        assert described == sr.RESULT_COLUMNS[0]
    for table, columns in zip(sr._TABLES, sr.RESULT_COLUMNS[1:]):
        described = tuple(d[0] for d in conn.execute(sr._IN_JSON[table], {"ids": "[]"}).description)
        assert described == columns


def test_finishing_a_source_after_many_others_does_not_load_the_whole_run(catalogued):
    run_dir, url = catalogued
    run = RunDirectory(run_dir, catalog=url)
    details = _details(run)
    sources = sorted(run.control_sources)[:CatalogDetails.BULK_AFTER]
    for source in sources:
        run[source].keys()  # the keys of each: from one file
    run[sources[0]].data_counts()  # every file of a source begun before
    assert not details._everything
    run[sorted(run.control_sources)[CatalogDetails.BULK_AFTER]].keys()  # a new one: the rest
    assert details._everything


def test_equal_key_lists_of_different_fetches_are_one_object(catalogued):
    run_dir, url = catalogued
    run = RunDirectory(run_dir, catalog=url)
    other = DET.replace("/0CH0", "/1CH0")
    run[DET, "image.data"].shape
    run[other, "image.data"].shape  # the same keys (and lengths) in another module
    mine, theirs = run[DET].files[0], run[other].files[0]
    assert mine._source(DET).keys is theirs._source(other).keys


def test_fetching_details_pauses_the_garbage_collector(catalogued, monkeypatch):
    run_dir, url = catalogued
    seen = []
    real = CatalogDetails._load

    def spy(self, *args):
        seen.append(gc.isenabled())
        return real(self, *args)

    monkeypatch.setattr(CatalogDetails, "_load", spy)
    run = RunDirectory(run_dir, catalog=url)
    run[XGM, "pulseEnergy.photonFlux"].ndarray()
    assert seen and not any(seen) and gc.isenabled()
