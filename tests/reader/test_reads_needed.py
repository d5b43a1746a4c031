"""Reading opens only the files, and reads only the rows, a selection needs; bad files are named."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from extra_catalog import RunDirectory, by_id
from extra_catalog.catalog import init_catalog, open_catalog
from extra_catalog.exceptions import ExtraCatalogError
from extra_catalog.fileaccess import get_handle_cache, hdf5_open_count
from extra_catalog.index.crawler import CrawlOptions, crawl
from extra_catalog.testing import write_run

XGM = "SA1_XTD2_XGM/DOOCS/MAIN"
DET = "SPB_DET_AGIPD1M-1/DET/0CH0:xtdf"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("needed") / "p900007" / "raw" / "r0001"
    write_run(run_dir, proposal=900007, n_trains=15, trains_per_sequence=5,
              detector="AGIPD1M", n_modules=1, frames_per_train=2, frame_shape=(4, 4))
    return run_dir


@pytest.fixture
def catalogued(pristine, tmp_path):
    run_dir = tmp_path / "p900007" / "raw" / "r0001"
    shutil.copytree(pristine, run_dir)
    url = str(tmp_path / "cat.sqlite")
    init_catalog(url)
    with open_catalog(url) as cat:
        crawl(cat, [run_dir], CrawlOptions(settle=0, processes=1))
    get_handle_cache().close_all()
    return run_dir, url


@pytest.fixture
def read_calls(monkeypatch):
    """Count HDF5 dataset reads (read_direct and slicing)."""
    calls: list[str] = []
    real_direct, real_getitem = h5py.Dataset.read_direct, h5py.Dataset.__getitem__

    def direct(self, *args, **kwargs):
        calls.append(self.file.filename)
        return real_direct(self, *args, **kwargs)

    def getitem(self, *args, **kwargs):
        calls.append(self.file.filename)
        return real_getitem(self, *args, **kwargs)

    monkeypatch.setattr(h5py.Dataset, "read_direct", direct)
    monkeypatch.setattr(h5py.Dataset, "__getitem__", getitem)
    return calls


def test_trains_of_one_sequence_file_open_only_that_file(catalogued, read_calls):
    run_dir, url = catalogued
    run = RunDirectory(run_dir, catalog=url)
    before = hdf5_open_count()
    first = int(run.train_ids[0])
    data = run.select_trains(by_id[first + 5:first + 8])[XGM, "pulseEnergy.photonFlux"].ndarray()
    assert data.shape == (3,)
    assert hdf5_open_count() - before == 1
    assert [Path(p).name for p in read_calls] == ["RAW-R0001-DA01-S00001.h5"]


def test_a_whole_key_reads_one_contiguous_range_per_file(catalogued, read_calls):
    run_dir, url = catalogued
    run = RunDirectory(run_dir, catalog=url)
    before = hdf5_open_count()
    frames = run[DET, "image.data"].ndarray()
    assert frames.shape[0] == 15 * 2
    det_files = sorted(p.name for p in run_dir.glob("*AGIPD00*.h5"))
    assert sorted(Path(p).name for p in read_calls) == det_files
    assert hdf5_open_count() - before == len(det_files)


def test_dask_array_opens_nothing_until_computed_and_then_only_its_files(catalogued):
    pytest.importorskip("dask.array")
    run_dir, url = catalogued
    run = RunDirectory(run_dir, catalog=url)
    before = hdf5_open_count()
    arr = run[DET, "image.data"].dask_array()
    assert hdf5_open_count() == before
    first_block = arr.blocks[0].compute()
    assert hdf5_open_count() - before == 1
    np.testing.assert_array_equal(first_block, run[DET, "image.data"].ndarray()[:len(first_block)])


def test_a_file_truncated_after_cataloguing_is_never_served_stale(catalogued, capsys):
    run_dir, url = catalogued
    victim = run_dir / "RAW-R0001-DA01-S00001.h5"
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 3])
    run = RunDirectory(run_dir, catalog=url)
    assert f"Skipping file {victim}" in capsys.readouterr().err
    assert str(victim) not in [f.filename for f in run.files]
    # the trains of the truncated file are gone, not filled with catalogued metadata
    assert len(run[XGM, "pulseEnergy.photonFlux"].ndarray()) == 10


def test_a_file_deleted_between_opening_and_reading_is_named(catalogued):
    run_dir, url = catalogued
    run = RunDirectory(run_dir, catalog=url)
    victim = run_dir / "RAW-R0001-DA01-S00002.h5"
    os.unlink(victim)
    get_handle_cache().close_all()
    with pytest.raises(ExtraCatalogError, match=str(victim)):
        run[XGM, "pulseEnergy.photonFlux"].ndarray()
