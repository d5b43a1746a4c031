"""Reading opens only the files a selection needs and reads each contiguous range once.

The run is catalogued first, so opening it opens no file: every open and
every dataset read counted here is caused by the data access under test.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import h5py
import numpy as np
import pytest

from extra_catalog import RunDirectory, by_id, by_index
from extra_catalog.catalog import init_catalog, open_catalog
from extra_catalog.fileaccess import get_handle_cache, hdf5_open_count
from extra_catalog.index.crawler import CrawlOptions, crawl
from extra_catalog.testing import write_run

XGM = "SA1_XTD2_XGM/DOOCS/MAIN"
FLUX = "pulseEnergy.photonFlux"
DET = "SPB_DET_AGIPD1M-1/DET/0CH0:xtdf"
FIRST = 10000  # write_run's first train ID
# 15 trains, 5 per sequence file: S00000 = 10000-10004, S00001 = 10005-10009...
SEQ = ["S00000", "S00001", "S00002"]


@pytest.fixture(scope="module")
def catalogued(tmp_path_factory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("efficiency")
    run_dir = base / "p900008" / "raw" / "r0002"
    write_run(run_dir, proposal=900008, run=2, n_trains=15, trains_per_sequence=5,
              detector="AGIPD1M", n_modules=1, frames_per_train=2, frame_shape=(4, 3))
    url = str(base / "cat.sqlite")
    init_catalog(url)
    with open_catalog(url) as cat:
        crawl(cat, [run_dir], CrawlOptions(settle=0, processes=1))
    return run_dir, url


@pytest.fixture
def run(catalogued):
    run_dir, url = catalogued
    get_handle_cache().close_all()  # every test starts with no file open
    before = hdf5_open_count()
    dc = RunDirectory(run_dir, catalog=url)
    assert hdf5_open_count() == before, "opening a catalogued run opened a file"
    return dc


@pytest.fixture
def reads(monkeypatch) -> list[tuple[str, str]]:
    """(file name, dataset name) of every HDF5 dataset read."""
    calls: list[tuple[str, str]] = []
    real_direct, real_getitem = h5py.Dataset.read_direct, h5py.Dataset.__getitem__

    def direct(self, *args, **kwargs):
        calls.append((Path(self.file.filename).name, self.name))
        return real_direct(self, *args, **kwargs)

    def getitem(self, *args, **kwargs):
        calls.append((Path(self.file.filename).name, self.name))
        return real_getitem(self, *args, **kwargs)

    monkeypatch.setattr(h5py.Dataset, "read_direct", direct)
    monkeypatch.setattr(h5py.Dataset, "__getitem__", getitem)
    return calls


def _files(calls: list[tuple[str, str]]) -> Counter:
    return Counter(name for name, _ in calls)


def _reference(run_dir: Path, pattern: str, path: str) -> np.ndarray:
    """A dataset's rows over all sequence files, read with bare h5py."""
    parts = []
    for fn in sorted(run_dir.glob(pattern)):
        with h5py.File(fn, "r") as f:
            parts.append(f[path][:])
    return np.concatenate(parts)


def test_metadata_of_a_key_opens_no_file(run, reads):
    before = hdf5_open_count()
    kd = run[DET, "image.data"].select_trains(by_id[FIRST + 3:FIRST + 12])
    assert kd.shape == (9 * 2, 2, 4, 3)  # raw AGIPD: (gain, y, x)
    assert kd.data_counts(labelled=False).tolist() == [2] * 9
    assert len(kd.train_id_coordinates()) == 18
    assert len(kd.source_file_paths) == 3
    assert hdf5_open_count() == before
    assert reads == []


def test_gaps_in_a_selection_make_one_read_per_contiguous_range(run, reads, catalogued):
    run_dir, _ = catalogued
    tids = [FIRST + 5, FIRST + 6, FIRST + 8, FIRST + 9]  # all in S00001, 10007 left out
    before = hdf5_open_count()
    data = run[XGM, FLUX].select_trains(by_id[tids]).ndarray()
    assert hdf5_open_count() - before == 1
    assert _files(reads) == {"RAW-R0002-DA01-S00001.h5": 2}
    ref = _reference(run_dir, "*-DA01-*.h5", f"CONTROL/{XGM}/pulseEnergy/photonFlux/value")
    np.testing.assert_array_equal(data, ref[[5, 6, 8, 9]])


def test_a_selection_across_a_file_boundary_reads_each_file_once(run, reads, catalogued):
    run_dir, _ = catalogued
    before = hdf5_open_count()
    kd = run[DET, "image.data"].select_trains(by_id[FIRST + 3:FIRST + 7])
    data = kd.ndarray()
    assert hdf5_open_count() - before == 2
    assert _files(reads) == {"RAW-R0002-AGIPD00-S00000.h5": 1, "RAW-R0002-AGIPD00-S00001.h5": 1}
    ref = _reference(run_dir, "*-AGIPD00-*.h5", f"INSTRUMENT/{DET}/image/data")
    np.testing.assert_array_equal(data, ref[3 * 2:7 * 2])


def test_a_region_of_interest_is_still_one_read_per_file(run, reads, catalogued):
    run_dir, _ = catalogued
    data = run[DET, "image.data"].ndarray(roi=np.s_[:, 1:3, :2])
    assert _files(reads) == {f"RAW-R0002-AGIPD00-{s}.h5": 1 for s in SEQ}
    ref = _reference(run_dir, "*-AGIPD00-*.h5", f"INSTRUMENT/{DET}/image/data")
    np.testing.assert_array_equal(data, ref[:, :, 1:3, :2])


def test_keydata_trains_reads_per_chunk_not_per_train(run, reads):
    kd = run[DET, "image.data"].select_trains(by_index[2:8])
    got = list(kd.trains())
    assert [int(t) for t, _ in got] == list(range(FIRST + 2, FIRST + 8))
    # trains 2-4 in S00000, 5-7 in S00001: one read each, not six
    assert _files(reads) == {"RAW-R0002-AGIPD00-S00000.h5": 1, "RAW-R0002-AGIPD00-S00001.h5": 1}
    np.testing.assert_array_equal(np.concatenate([d for _, d in got]), kd.ndarray())


def test_one_train_opens_only_its_file(run, reads):
    before = hdf5_open_count()
    tid, data = run[DET, "image.data"].train_from_id(FIRST + 12)
    assert tid == FIRST + 12 and data.shape == (2, 2, 4, 3)
    assert hdf5_open_count() - before == 1
    assert _files(reads) == {"RAW-R0002-AGIPD00-S00002.h5": 1}


def test_iterating_trains_of_a_selection_opens_only_their_files(run, reads):
    sel = run.select([(XGM, FLUX), (DET, "image.data")]).select_trains(by_id[FIRST + 6:FIRST + 9])
    before = hdf5_open_count()
    got = dict(sel.trains())
    assert list(got) == [FIRST + 6, FIRST + 7, FIRST + 8]
    assert hdf5_open_count() - before == 2  # DA01-S00001 and AGIPD00-S00001
    assert set(_files(reads)) == {"RAW-R0002-DA01-S00001.h5", "RAW-R0002-AGIPD00-S00001.h5"}
    flux = run[XGM, FLUX].select_trains(by_id[FIRST + 6:FIRST + 9]).ndarray()
    assert [got[t][XGM][FLUX + ".value"] for t in got] == flux.tolist()
    frames = run[DET, "image.data"].select_trains(by_id[FIRST + 6:FIRST + 9]).ndarray()
    np.testing.assert_array_equal(
        np.concatenate([got[t][DET]["image.data"] for t in got]), frames)


def test_each_dask_chunk_reads_only_its_own_file(run, reads):
    pytest.importorskip("dask.array")
    arr = run[DET, "image.data"].dask_array()
    assert reads == []
    assert len(arr.chunks[0]) == 3
    full = run[DET, "image.data"].ndarray()
    reads.clear()
    offset = 0
    for i, seq in enumerate(SEQ):
        before = hdf5_open_count()
        get_handle_cache().close_all()
        block = arr.blocks[i].compute()
        assert hdf5_open_count() - before == 1
        assert _files(reads) == {f"RAW-R0002-AGIPD00-{seq}.h5": 1}
        np.testing.assert_array_equal(block, full[offset:offset + len(block)])
        offset += len(block)
        reads.clear()
    assert offset == len(full)
