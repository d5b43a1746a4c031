"""A generated facility tree, catalogued on each backend, for the query tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from extra_catalog.index.crawler import CrawlOptions, crawl
from extra_catalog.testing import write_tree
from extra_catalog.testing.tree import ProposalSpec, RunSpec

#: Near the top of the uint64 range: the catalogue stores value - 2**63.
HIGH_TRAIN = 2**64 - 500

TREE = (
    ProposalSpec(900001, "SPB", "202601", (
        RunSpec(1, n_trains=12, sample="Lysozyme", run_type="SFX"),
        RunSpec(2, n_trains=6, detector="AGIPD1M", n_modules=2, proc=True,
                suspect_train_ids=(2,), sample="Gold foil"),
        RunSpec(3, format_version="1.0", n_trains=20, faults=("index_short",)),
    )),
    ProposalSpec(900002, "FXE", "202602", (
        RunSpec(1, format_version="0.5", n_trains=8, n_control_sources=1),
        RunSpec(2, n_trains=15, first_train_id=HIGH_TRAIN, detector="JUNGFRAU",
                n_modules=1, run_type="Dark"),
    )),
)


@pytest.fixture(scope="session")
def tree_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The facility tree of :data:`TREE` (written once)."""
    root = tmp_path_factory.mktemp("tree")
    write_tree(root, spec=TREE)
    return root


@pytest.fixture
def filled_url(catalog, catalog_url: str, tree_root: Path) -> str:
    """URL of a catalogue (SQLite and PostgreSQL) holding the whole tree."""
    crawl(catalog, [tree_root], CrawlOptions(settle=0, processes=1))
    return catalog_url


@pytest.fixture
def cat(filled_url: str):
    """A query Catalog over the filled catalogue, seeing every proposal."""
    from extra_catalog.query import Catalog

    with Catalog(filled_url, admin=True) as opened:
        yield opened
