"""A detector over a catalogued run: building it and its dask graph opens no file.

The INDEX offsets come from the catalogue, so only reading data opens
files, and a dask chunk opens only the files holding its own trains.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from extra_catalog import RunDirectory
from extra_catalog.catalog import init_catalog, open_catalog
from extra_catalog.components import AGIPD1M
from extra_catalog.fileaccess import get_handle_cache, hdf5_open_count
from extra_catalog.index.crawler import CrawlOptions, crawl
from extra_catalog.testing import write_run

from ._helpers import FIRST, quiet

N_MODULES = 4


@pytest.fixture(scope="module")
def catalogued(tmp_path_factory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("catalogued")
    run_dir = base / "p900001" / "proc" / "r0003"
    # 12 trains, 4 per module file: S00000 = 10000-10003, S00001 = 10004-10007...
    write_run(run_dir, proposal=900001, run=3, data="proc", detector="AGIPD1M",
              n_modules=N_MODULES, n_trains=12, trains_per_sequence=4, frames_per_train=3,
              frame_shape=(4, 3))
    url = str(base / "cat.sqlite")
    init_catalog(url)
    with open_catalog(url) as cat:
        crawl(cat, [run_dir], CrawlOptions(settle=0, processes=1))
    return run_dir, url


@pytest.fixture
def run(catalogued):
    run_dir, url = catalogued
    get_handle_cache().close_all()
    return RunDirectory(run_dir, catalog=url)


def _open_files() -> set[str]:
    cache = get_handle_cache()
    return {p for p in cache._files}  # noqa: SLF001 - the test inspects the cache


def test_building_opens_no_file(run):
    before = hdf5_open_count()
    det = AGIPD1M(run)
    assert repr(det).endswith("proc data with 4 modules>")
    kd = det["image.data"]
    arr = kd.dask_array()
    assert arr.shape == (N_MODULES, 36, 4, 3)
    det.select_trains(np.s_[2:5])["image.data"].dask_array()
    list(det.split_trains(trains_per_part=4))
    det.data_availability()
    assert hdf5_open_count() == before


def test_each_dask_chunk_opens_only_its_files(run):
    det = quiet(AGIPD1M, run)
    arr = det["image.data"].dask_array(frames_per_chunk=12)  # 4 trains per chunk
    assert arr.chunks[1] == (12, 12, 12)
    before = hdf5_open_count()
    middle = arr.blocks[0, 1].compute()
    # Trains 10004-10007 are the second file of each module.
    assert hdf5_open_count() - before == N_MODULES
    opened = {Path(p).name for p in _open_files()}
    assert opened == {f"CORR-R0003-AGIPD{m:02d}-S00001.h5" for m in range(N_MODULES)}
    np.testing.assert_array_equal(middle, det.select_trains(np.s_[4:8])["image.data"].ndarray())


def test_dask_tasks_travel_without_metadata_reads(run):
    det = quiet(AGIPD1M, run)
    arr = det["image.data"].dask_array()
    # What a distributed worker receives: the pickled graph.
    graph = pickle.loads(pickle.dumps(dict(arr.__dask_graph__())))
    get_handle_cache().close_all()
    before = hdf5_open_count()
    ((reader,),) = graph.values()  # one chunk: a task tuple around a PartReader
    data = reader()
    assert hdf5_open_count() - before == 3 * N_MODULES  # every file once, nothing else
    np.testing.assert_array_equal(data, arr.compute())


def test_one_train_reads_one_file_per_module(run):
    det = quiet(AGIPD1M, run)
    before = hdf5_open_count()
    one = det.select_trains(np.s_[9:10]).get_array("image.data")
    assert one.shape == (N_MODULES, 1, 3, 4, 3)
    assert list(one.coords["train"].values) == [FIRST + 9]
    assert hdf5_open_count() - before == N_MODULES
