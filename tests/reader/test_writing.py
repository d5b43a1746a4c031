"""DataCollection.write / write_virtual: round trips, every format version, safety."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import h5py
import numpy as np
import pytest

from extra_catalog import H5File, RunDirectory, by_index
from extra_catalog.reader.writing import WriteError

VERSIONS = ["0.5", "1.0", "1.1", "1.2", "1.3"]
MOTOR = "SPB_IRU_MOTORS/MOTOR/X"


@pytest.fixture(scope="module", params=VERSIONS)
def run_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from extra_catalog.testing import write_run

    path = tmp_path_factory.mktemp(f"write{request.param}") / "r0001"
    suspect = (10004,) if request.param != "0.5" else ()
    write_run(path, format_version=request.param, n_trains=12, trains_per_sequence=5,
              detector="AGIPD1M", n_modules=1, frame_shape=(4, 4), frames_per_train=3,
              n_control_sources=1, suspect_train_ids=suspect,
              legacy_names={"OLD/XGM/DEV:output": "SA1_XTD2_XGM/DOOCS/MAIN:output"})
    return path


def _assert_same(original, written) -> None:
    assert written.all_sources == original.all_sources
    assert written.legacy_sources == original.legacy_sources
    assert list(map(int, written.train_ids)) == list(map(int, original.train_ids))
    for source in sorted(original.all_sources - original.legacy_sources.keys()):
        assert written.keys_for_source(source) == original.keys_for_source(source), source
        for key in sorted(original.keys_for_source(source)):
            a, b = original[source, key], written[source, key]
            np.testing.assert_array_equal(b.ndarray(), a.ndarray(), err_msg=f"{source} {key}")
            np.testing.assert_array_equal(b.data_counts(labelled=False),
                                          a.data_counts(labelled=False))
            assert (b.units, b.dtype, b.entry_shape) == (a.units, a.dtype, a.entry_shape)


@pytest.mark.parametrize("method", ["write", "write_virtual"])
def test_round_trip(run_dir: Path, tmp_path: Path, method: str) -> None:
    run = RunDirectory(run_dir)
    selection = run.deselect("*DA2*").select_trains(by_index[1:10])
    target = tmp_path / "out.h5"
    getattr(selection, method)(target)
    written = H5File(target)
    _assert_same(selection, written)
    assert written.get_run_value(MOTOR, "actualPosition") == run.get_run_value(
        MOTOR, "actualPosition")
    with h5py.File(target) as f:
        assert f.attrs["writer"].startswith("extra_catalog ")
        if method == "write_virtual":
            assert f[f"CONTROL/{MOTOR}/actualPosition/value"].is_virtual
            assert f[f"CONTROL/{MOTOR}"].attrs["source_files"].size
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left


def test_suspect_trains_stay_suspect(run_dir: Path, tmp_path: Path) -> None:
    run = RunDirectory(run_dir)
    run.write(tmp_path / "out.h5")
    for inc in (True, False):
        again = H5File(tmp_path / "out.h5", inc_suspect_trains=inc)
        expected = RunDirectory(run_dir, inc_suspect_trains=inc)
        assert list(map(int, again.train_ids)) == list(map(int, expected.train_ids))


def test_written_file_can_be_crawled(run_dir: Path, tmp_path: Path) -> None:
    from extra_catalog.catalog import init_catalog, load_run, open_catalog
    from extra_catalog.index.crawler import CrawlOptions, crawl

    target_dir = tmp_path / "SPB/202601/p900001/raw/r0001"
    target_dir.mkdir(parents=True)
    RunDirectory(run_dir).select("*XGM*").write(target_dir / "RAW-R0001-DA01-S00000.h5")
    url = str(tmp_path / "catalog.sqlite")
    init_catalog(url)
    with open_catalog(url) as cat:
        summary = crawl(cat, [tmp_path / "SPB"], CrawlOptions(settle=0, processes=1))
        assert summary.exit_status == 0, summary.problems
        stored = load_run(cat, target_dir)
    assert len(stored.files) == 1
    _assert_same(RunDirectory(run_dir).select("*XGM*"), RunDirectory(target_dir, catalog=url))


def test_never_overwrites_an_input_file(run_dir: Path) -> None:
    run = RunDirectory(run_dir)
    first = run.files[0].filename
    before = os.stat(first)
    with pytest.raises(WriteError, match="is one of the files the data is read from"):
        run.write(first)
    assert os.stat(first).st_mtime == before.st_mtime


def test_missing_directory_is_named(run_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(WriteError, match="does not exist"):
        RunDirectory(run_dir).write(tmp_path / "no" / "out.h5")


def test_full_disk_leaves_the_target_as_it_was(run_dir: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from extra_catalog.reader import writing

    target = tmp_path / "out.h5"
    target.write_bytes(b"previous contents")

    def no_space(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writing, "_copy_key", no_space)
    with pytest.raises(WriteError, match="No space left on device.*nothing was left"):
        RunDirectory(run_dir).write(target)
    assert target.read_bytes() == b"previous contents"
    assert list(tmp_path.iterdir()) == [target]
