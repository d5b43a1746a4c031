"""A detector over a catalogued run: building it and its dask graph opens no file.

The INDEX offsets come from the catalogue, so only reading data opens
files, and a dask chunk opens only the files holding its own trains.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
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


WORKER = """
import pickle, sys
from extra_catalog.fileaccess import hdf5_open_count
reader = pickle.loads(sys.stdin.buffer.read())
data = reader()
print(hdf5_open_count(), float(data.sum(dtype="float64")))
"""


def test_a_task_in_another_process_opens_only_its_files(run):
    """What a dask.distributed worker does: unpickle one task and run it."""
    det = quiet(AGIPD1M, run)
    arr = det["image.data"].dask_array(frames_per_chunk=12)
    graph = dict(arr.__dask_graph__())
    (reader,) = graph[(arr.name, 0, 1, 0, 0)]  # trains 10004-10007
    out = subprocess.run([sys.executable, "-c", WORKER], input=pickle.dumps(reader),
                         capture_output=True, check=True)
    opened, total = out.stdout.decode().split()
    # One open per module file of those trains, reused to read their metadata
    # (the worker's FileAccess is rebuilt from the file) and data.
    assert int(opened) == N_MODULES
    assert float(total) == float(arr.blocks[0, 1].compute().sum(dtype=np.float64))


def test_one_train_reads_one_file_per_module(run):
    det = quiet(AGIPD1M, run)
    before = hdf5_open_count()
    one = det.select_trains(np.s_[9:10]).get_array("image.data")
    assert one.shape == (N_MODULES, 1, 3, 4, 3)
    assert list(one.coords["train"].values) == [FIRST + 9]
    assert hdf5_open_count() - before == N_MODULES
