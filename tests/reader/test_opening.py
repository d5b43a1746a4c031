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
