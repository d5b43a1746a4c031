"""A generated facility tree, catalogued on each backend, for the query tests."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest

from extra_catalog.index.crawler import CrawlOptions, crawl
from extra_catalog.testing import write_tree
from extra_catalog.testing.tree import ProposalSpec, RunSpec

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

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


@contextmanager
def crawled_catalogue(request: pytest.FixtureRequest, sqlite_dir: Path,
                      tree: Path) -> Iterator[str]:
    """URL of a new catalogue holding *tree*, on the backend of ``request.param``.

    SQLite in *sqlite_dir*; on PostgreSQL a throwaway schema, dropped after.
    """
    from extra_catalog.catalog import init_catalog, open_catalog

    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{sqlite_dir / 'catalog.sqlite'}"
    else:
        url, schema = _pg_schema(request.getfixturevalue("pg_database"))
    init_catalog(url)
    with open_catalog(url) as store:
        crawl(store, [tree], CrawlOptions(settle=0, processes=1))
    try:
        yield url
    finally:
        if schema is not None:
            _drop_schema(request.getfixturevalue("pg_database"), schema)


@pytest.fixture(scope="session", params=BACKENDS)
def filled_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
               tree_root: Path) -> Iterator[str]:
    """URL of a catalogue holding the whole tree, on each backend.

    Made once per session: the query API cannot write (tests check that
    refused writes leave it unchanged), so the tests can share it.
    """
    with crawled_catalogue(request, tmp_path_factory.mktemp("filled"), tree_root) as url:
        yield url


def _pg_schema(database_url: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    schema = f"q_{secrets.token_hex(6)}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    separator = "&" if "?" in database_url else "?"
    return f"{database_url}{separator}options={quote(f'-csearch_path={schema}')}", schema


def _drop_schema(database_url: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def cat(filled_url: str):
    """A query Catalog over the filled catalogue, seeing every proposal."""
    from extra_catalog.query import Catalog

    with Catalog(filled_url, admin=True) as opened:
        yield opened
