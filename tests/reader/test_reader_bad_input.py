"""Bad input to the reader: a clear exception or warning naming what is wrong, never wrong data.

Names, exception classes and warning texts follow EXtra-data's documented
behaviour; broken files give project exceptions naming the path.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from extra_catalog import RunDirectory, by_id, by_index
from extra_catalog.catalog import init_catalog, open_catalog
from extra_catalog.exceptions import (CorruptFileError, DataFileNotFoundError,
                                      DataFilePermissionError, ExtraCatalogError, NoDataError,
                                      PropertyNameError, SourceNameError, TrainIDError)
from extra_catalog.fileaccess import get_handle_cache, handles
from extra_catalog.index.crawler import CrawlOptions, crawl
from extra_catalog.testing import grow_file, write_run

XGM = "SA1_XTD2_XGM/DOOCS/MAIN"
FLUX = "pulseEnergy.photonFlux"
DET = "SPB_DET_AGIPD1M-1/DET/0CH0:xtdf"
FIRST = 10000
MIDDLE = "RAW-R0001-DA01-S00001.h5"  # XGM data of trains 10005-10009


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("bad") / "p900009" / "raw" / "r0001"
    write_run(run_dir, proposal=900009, n_trains=15, trains_per_sequence=5,
              detector="AGIPD1M", n_modules=1, frames_per_train=2, frame_shape=(2, 2))
    return run_dir


@pytest.fixture
def catalogued(pristine, tmp_path) -> tuple[Path, str]:
    """A private copy of the run, crawled into a private catalogue."""
    run_dir = tmp_path / "p900009" / "raw" / "r0001"
    shutil.copytree(pristine, run_dir)
    url = str(tmp_path / "cat.sqlite")
    init_catalog(url)
    with open_catalog(url) as cat:
        crawl(cat, [run_dir], CrawlOptions(settle=0, processes=1))
    get_handle_cache().close_all()
    return run_dir, url


@pytest.fixture
def run(pristine):
    """The pristine run, read from disk (these tests change nothing)."""
    return RunDirectory(pristine, catalog=None)


# ---- names that do not exist ------------------------------------------------------------

def test_unknown_source_is_a_source_name_error_naming_it(run):
    with pytest.raises(SourceNameError, match="no source named 'SPB_NOPE/X/Y'") as info:
        run["SPB_NOPE/X/Y"]
    assert isinstance(info.value, KeyError) and isinstance(info.value, ExtraCatalogError)
    with pytest.raises(SourceNameError, match="SPB_NOPE/X/Y"):
        run["SPB_NOPE/X/Y", FLUX]


def test_unknown_key_is_a_property_name_error_naming_key_and_source(run):
    for get in (lambda: run[XGM, "nope.value"], lambda: run[XGM]["nope.value"],
                lambda: run[DET, "image.nope"]):
        with pytest.raises(PropertyNameError) as info:
            get()
        assert isinstance(info.value, KeyError)
        assert info.value.source in (XGM, DET) and info.value.source in str(info.value)
        assert info.value.prop in str(info.value)


def test_a_select_pattern_matching_nothing_names_the_pattern(run):
    with pytest.raises(ValueError, match="No matches for pattern.*SPB_NOPE"):
        run.select("SPB_NOPE*")
    with pytest.raises(ValueError, match="nope"):
        run.select(XGM, "nope*")


# ---- trains outside the run ---------------------------------------------------------------

def test_a_train_outside_the_run_is_a_train_id_error(run):
    for get in (lambda: run.train_from_id(5), lambda: run[XGM, FLUX].train_from_id(5),
                lambda: run[DET, "image.data"].train_from_id(FIRST + 15)):
        with pytest.raises(TrainIDError, match="Train ID (5|10015) not found"):
            get()


def test_a_train_index_outside_the_selection_is_an_index_error(run):
    with pytest.raises(IndexError, match="100"):
        run.select_trains(by_index[100])
    with pytest.raises(IndexError):
        run[XGM, FLUX].train_from_index(15)


def test_train_ranges_outside_the_run_warn_and_select_nothing(run):
    # as EXtra-data, the warning names the end of the range
    with pytest.warns(UserWarning, match=r"Train ID 10 is before this run \(starts at 10000\)"):
        before = run.select_trains(by_id[5:10])
    with pytest.warns(UserWarning, match=r"after this run \(ends at 10014\)"):
        after = run.select_trains(by_id[20000:20010])
    with pytest.warns(UserWarning, match="Given train IDs not found among 15 trains"):
        missing = run.select_trains(by_id[[1, 2, 3]])
    for dc in (before, after, missing):
        assert dc.train_ids == []
        assert dc[XGM, FLUX].ndarray().shape == (0,)


# ---- empty selections -----------------------------------------------------------------------

def test_an_empty_selection_gives_empty_results_of_the_right_shape(run):
    with pytest.warns(UserWarning):
        empty = run.select_trains(by_id[[1]])
    kd = empty[DET, "image.data"]
    assert kd.ndarray().shape == (0, 2, 2, 2)
    assert kd.ndarray().dtype == run[DET, "image.data"].dtype
    assert kd.xarray().shape == (0, 2, 2, 2)
    assert len(empty[XGM, FLUX].series()) == 0
    assert list(kd.trains()) == []
    assert list(empty.trains()) == []
    assert empty[XGM, FLUX].data_counts(labelled=False).tolist() == []
    pytest.importorskip("dask.array")
    assert kd.dask_array().compute().shape == (0, 2, 2, 2)


def test_a_single_value_of_no_data_is_a_no_data_error_naming_the_key(run):
    with pytest.warns(UserWarning):
        kd = run[XGM, FLUX].select_trains(by_id[[1]])
    with pytest.raises(NoDataError, match=f"{XGM}.*{FLUX}"):
        kd.as_single_value()


# ---- files changed on disk after cataloguing or opening -----------------------------------

def test_a_file_deleted_after_cataloguing_is_left_out_not_served(catalogued):
    run_dir, url = catalogued
    os.unlink(run_dir / MIDDLE)
    run = RunDirectory(run_dir, catalog=url)
    assert all(Path(f.filename).name != MIDDLE for f in run.files)
    kd = run[XGM, FLUX]
    assert len(kd.ndarray()) == 10
    assert not set(range(FIRST + 5, FIRST + 10)) & {int(t) for t in kd.train_id_coordinates()}


def test_a_file_that_is_not_hdf5_any_more_is_skipped_at_open(catalogued, capsys):
    run_dir, url = catalogued
    (run_dir / MIDDLE).write_bytes(b"\x00not hdf5" * 500)
    run = RunDirectory(run_dir, catalog=url)
    err = capsys.readouterr().err
    assert f"Skipping file {run_dir / MIDDLE}" in err and "(error was:" in err
    assert len(run[XGM, FLUX].ndarray()) == 10


def test_a_file_that_cannot_be_opened_is_named_when_read(catalogued, monkeypatch):
    run_dir, url = catalogued
    run = RunDirectory(run_dir, catalog=url)  # from the catalogue: nothing opened yet
    real = handles._h5open

    def refuse(path: str):
        if path.endswith(MIDDLE):
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(handles, "_h5open", refuse)
    with pytest.raises(DataFilePermissionError, match=str(run_dir / MIDDLE)):
        run[XGM, FLUX].ndarray()
    # data in other files is still readable
    assert len(run[XGM, FLUX].select_trains(by_id[FIRST:FIRST + 5]).ndarray()) == 5


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


@pytest.mark.parametrize("damage", ["truncated", "deleted", "garbage"])
def test_a_file_damaged_after_opening_is_named_by_every_read_path(catalogued, damage):
    run_dir, url = catalogued
    run = RunDirectory(run_dir, catalog=url)
    victim = run_dir / MIDDLE
    if damage == "truncated":
        _truncate(victim)
    elif damage == "deleted":
        os.unlink(victim)
    else:
        victim.write_bytes(b"\x89HDF junk" * 400)
    get_handle_cache().close_all()
    kd = run[XGM, FLUX]
    reads = [kd.ndarray, lambda: list(kd.trains()), lambda: kd.train_from_id(FIRST + 6),
             lambda: run.train_from_id(FIRST + 6), lambda: list(run.select(XGM).trains())]
    expected = DataFileNotFoundError if damage == "deleted" else CorruptFileError
    for read in reads:
        with pytest.raises(expected, match=str(victim)):
            read()
    pytest.importorskip("dask.array")
    with pytest.raises(expected, match=str(victim)):
        kd.dask_array().compute()


def test_a_file_replaced_after_opening_is_refused_not_read_at_stale_offsets(catalogued):
    run_dir, url = catalogued
    run = RunDirectory(run_dir, catalog=url)
    kd = run[XGM, FLUX]
    good = kd.ndarray()
    # Another sequence file with the same layout takes the name (as a rename
    # would): the catalogued INDEX offsets would point at other trains' data.
    victim, other = run_dir / MIDDLE, run_dir / "RAW-R0001-DA01-S00002.h5"
    shutil.copy2(other, str(victim) + ".new")
    os.replace(str(victim) + ".new", victim)
    get_handle_cache().close_all()
    for read in (kd.ndarray, lambda: kd.train_from_id(FIRST + 6),
                 lambda: run.train_from_id(FIRST + 6)):
        with pytest.raises(CorruptFileError, match=f"{victim}.*(replaced|rewritten)"):
            read()
    # Opened again, the changed file is read from disk, not from the stale
    # catalogue record: its trains now clash with the file it was copied from.
    with pytest.raises(ValueError, match="conflicting data"):
        RunDirectory(run_dir, catalog=url)


def test_a_file_still_growing_after_opening_reads_the_trains_known_at_open(catalogued):
    run_dir, url = catalogued
    run = RunDirectory(run_dir, catalog=url)
    last = run_dir / "RAW-R0001-DA01-S00002.h5"
    kd = run[XGM, FLUX]
    good = kd.ndarray()
    get_handle_cache().close_all()
    grow_file(last, n_trains=3)  # same inode, new size and mtime, more trains at the end
    np.testing.assert_array_equal(kd.ndarray(), good)
    assert int(kd.train_from_id(FIRST + 14)[0]) == FIRST + 14


# ---- INDEX pointing past the data ---------------------------------------------------------------

def test_control_data_shorter_than_its_index_is_an_error_on_every_read_path(tmp_path):
    run_dir = tmp_path / "r0001"
    write_run(run_dir, n_trains=6, trains_per_sequence=10, faults=["control_data_missing"])
    run = RunDirectory(run_dir, catalog=None)
    source = sorted(run.control_sources)[0]  # the damaged source: its last two trains lack data
    key = run[source].one_key()
    bad = str(run_dir / "RAW-R0001-DA01-S00000.h5")
    kd = run[source, key]
    for read in (kd.ndarray, lambda: kd.train_from_index(5), lambda: list(kd.trains()),
                 lambda: list(run.select(source).trains())):
        with pytest.raises(CorruptFileError, match=f"{bad}.*INDEX points to rows"):
            read()
    # trains whose rows exist are read normally
    assert len(kd.select_trains(by_index[:4]).ndarray()) == 4
