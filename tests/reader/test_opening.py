"""Finding proposals and runs under EXTRA_DATA_DATA_ROOT, with and without the catalogue."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from extra_catalog.reader.opening import _run_number, data_root_dir, find_proposal


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    for rel in ["SPB/202601/p900001/raw/r0001", "FXE/202602/p900002/raw/r0001"]:
        (tmp_path / "exp" / rel).mkdir(parents=True)
    monkeypatch.setenv("EXTRA_DATA_DATA_ROOT", str(tmp_path / "exp"))
    monkeypatch.setenv("EXTRA_CATALOG_URL", str(tmp_path / "no-catalogue.sqlite"))
    return tmp_path / "exp"


def test_data_root_defaults_to_gpfs(monkeypatch):
    monkeypatch.delenv("EXTRA_DATA_DATA_ROOT", raising=False)
    assert data_root_dir() == Path("/gpfs/exfel/exp")


@pytest.mark.parametrize("given", [900002, np.int64(900002), "900002", "p900002"])
def test_find_proposal_by_number(root, given):
    assert find_proposal(given) == str(root / "FXE/202602/p900002")


def test_find_proposal_returns_paths_as_given(root):
    assert find_proposal("/some/where/p1") == "/some/where/p1"
    assert find_proposal(Path("/x/p2")) == "/x/p2"


def test_unknown_proposal_names_the_root(root):
    with pytest.raises(FileNotFoundError, match="p123456.*EXTRA_DATA_DATA_ROOT"):
        find_proposal(123456)


def test_find_proposal_uses_the_catalogue_when_it_knows_it(root, tmp_path, monkeypatch):
    from extra_catalog.catalog import init_catalog, open_catalog
    from extra_catalog.index.crawler import CrawlOptions, crawl
    from extra_catalog.testing import write_run

    # the same proposal number in two cycles: the glob would take the first, the
    # catalogue knows where the runs are
    run_dir = root / "SPB/202609/p900001/raw/r0002"
    write_run(run_dir, run=2, n_trains=5)
    url = str(tmp_path / "cat.sqlite")
    init_catalog(url)
    with open_catalog(url) as cat:
        crawl(cat, [run_dir], CrawlOptions(settle=0, processes=1))
    monkeypatch.setenv("EXTRA_CATALOG_URL", url)
    assert find_proposal(900001) == str(root / "SPB/202609/p900001")


@pytest.mark.parametrize("given,expected", [(238, 238), (np.uint16(7), 7), ("238", 238),
                                            ("r0238", 238)])
def test_run_numbers(given, expected):
    assert _run_number(given) == expected


def test_bad_run_number():
    with pytest.raises(ValueError, match="r0238"):
        _run_number("run-two")


# --- opening runs -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def facility(tmp_path_factory) -> Path:
    from extra_catalog.testing import ProposalSpec, RunSpec, write_tree

    root = tmp_path_factory.mktemp("facility") / "exp"
    write_tree(root, spec=[ProposalSpec(900005, "SPB", "202601", (
        RunSpec(1, n_trains=20),
        RunSpec(2, detector="AGIPD1M", n_modules=2, frames_per_train=2, n_trains=10,
                trains_per_sequence=5, proc=True),
    ))])
    return root


@pytest.fixture
def crawled_facility(facility, tmp_path, monkeypatch) -> str:
    from extra_catalog.catalog import init_catalog, open_catalog
    from extra_catalog.index.crawler import CrawlOptions, crawl

    url = str(tmp_path / "catalog.sqlite")
    init_catalog(url)
    with open_catalog(url) as cat:
        crawl(cat, [facility], CrawlOptions(settle=0, processes=1))
    monkeypatch.setenv("EXTRA_DATA_DATA_ROOT", str(facility))
    monkeypatch.setenv("EXTRA_CATALOG_URL", url)
    return url


def test_open_run_from_the_catalogue_opens_no_hdf5_file(crawled_facility):
    from extra_catalog import open_run
    from extra_catalog.fileaccess import hdf5_open_count

    before = hdf5_open_count()
    run = open_run(900005, 1, data="raw")
    assert len(run.train_ids) == 20
    assert "SA1_XTD2_XGM/DOOCS/MAIN" in run.control_sources
    run.keys_for_source("SA1_XTD2_XGM/DOOCS/MAIN")
    run["SA1_XTD2_XGM/DOOCS/MAIN", "pulseEnergy.photonFlux"].shape
    run.get_data_counts("SA1_XTD2_XGM/DOOCS/MAIN", "pulseEnergy.photonFlux")
    run.run_metadata()
    assert hdf5_open_count() == before
    values = run["SA1_XTD2_XGM/DOOCS/MAIN", "pulseEnergy.photonFlux"].ndarray()
    assert values.shape == (20,)
    assert hdf5_open_count() > before  # reading data opens the file


def test_open_run_default_combines_proc_and_raw(crawled_facility):
    from extra_catalog import RunDirectory, open_run

    raw = open_run("p900005", "r0002", data="raw")
    proc = open_run(900005, 2, data="proc")
    both = open_run(900005, 2)
    assert both.all_sources == raw.all_sources | proc.all_sources
    assert any("/CORR/" in s for s in both.instrument_sources)
    assert both.is_single_run
    direct = RunDirectory(proc.files[0].filename.rsplit("/", 1)[0])
    assert direct.all_sources == proc.all_sources


def test_open_run_missing_data_category(crawled_facility):
    from extra_catalog import open_run

    with pytest.raises(FileNotFoundError):
        open_run(900005, 1, data="proc")
    run = open_run(900005, 1)  # default: proc may be absent silently
    assert len(run.train_ids) == 20
    with pytest.warns(UserWarning, match="No data available for this run at origin proc"):
        open_run(900005, 1, data="all")


def test_h5file_and_context_manager(facility):
    from extra_catalog import H5File

    path = sorted((facility / "SPB/202601/p900005/raw/r0001").glob("*.h5"))[0]
    with H5File(path) as f:
        assert f.is_single_run and len(f.train_ids) > 0


def test_the_garbage_collector_is_paused_while_opening_and_restored(tmp_path, monkeypatch):
    import gc

    from extra_catalog import RunDirectory
    from extra_catalog.reader import opening
    from extra_catalog.testing import write_run

    run_dir = tmp_path / "r0001"
    write_run(run_dir, run=1, n_trains=4, trains_per_sequence=2)
    seen = []
    real = opening.open_run_files

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(opening, "open_run_files", spy)
    RunDirectory(run_dir, catalog=None)
    assert seen == [False] and gc.isenabled()
    gc.disable()  # a caller's own pause is left as it was
    try:
        RunDirectory(run_dir, catalog=None)
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(FileNotFoundError):
        RunDirectory(tmp_path / "missing", catalog=None)
    assert gc.isenabled()  # restored after an error too
