"""Runs whose files can all be read now: Catalog.runs(on_disk=...) and xfel-index query --on-disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from extra_catalog.catalog import open_catalog
from extra_catalog.catalog.locality import ON_DISK_LOCALITIES, record_localities
from extra_catalog.cli.xfel_index import cli
from extra_catalog.fileaccess.locality import ON_DISK_STATES, pseudo_path
from extra_catalog.index.crawler import CrawlOptions, crawl
from extra_catalog.query import Catalog, QueryError
from extra_catalog.testing import ProposalSpec, RunSpec, write_tree

SPEC = (ProposalSpec(900001, "SPB", "202601", tuple(
    RunSpec(i, n_trains=4) for i in range(1, 6))),)
RUNS = "SPB/202601/p900001/raw"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("on_disk") / "exp"
    write_tree(root, spec=SPEC)
    return root


@pytest.fixture
def crawled(pristine, tmp_path, catalog_url) -> str:
    """Run 1 on GPFS, 2 on dCache disk, 3 with a file only on tape, 4 with a damaged
    file, 5 with a file never checked (recorded before locality was)."""
    import shutil

    root = tmp_path / "exp"
    shutil.copytree(pristine, root)

    def files(run: int) -> list[Path]:
        return sorted((root / RUNS / f"r{run:04d}").glob("*.h5"))

    for path, state in zip(files(2), ["ONLINE", "ONLINE_AND_NEARLINE"]):
        Path(pseudo_path(path)).write_text(state)
    Path(pseudo_path(files(3)[0])).write_text("NEARLINE")
    files(4)[0].write_bytes(b"damaged")
    with open_catalog(catalog_url) as cat:
        crawl(cat, [root], CrawlOptions(settle=0, processes=2, timeout=30))
        record_localities(cat, root / RUNS / "r0005", {files(5)[0].name: None})
    return catalog_url


def _runs(url: str, **filters) -> list[int]:
    with Catalog(url, admin=True) as cat:
        return cat.runs(**filters).run.tolist()


def test_on_disk_runs(crawled):
    assert _runs(crawled, on_disk=True) == [1, 2]
    assert _runs(crawled, on_disk=False) == [3, 4, 5]
    assert _runs(crawled) == [1, 2, 3, 4, 5]
    assert _runs(crawled, on_disk=True, run=[2, 3]) == [2]


def test_the_files_view_shows_locality_and_when_checked(crawled):
    with Catalog(crawled, admin=True) as cat:
        frame = cat.sql("SELECT run, name, state, locality, checked_at FROM files "
                        "ORDER BY run, name")
    by_run = {run: list(zip(group.state, group.locality))
              for run, group in frame.groupby("run")}
    assert by_run[2] == [("ok", "ONLINE"), ("ok", "ONLINE_AND_NEARLINE")]
    assert by_run[3][0] == ("unreadable", "NEARLINE")
    assert by_run[4][0] == ("unreadable", "NOT_ON_DCACHE")  # on disk, but damaged
    assert frame.checked_at.notna().sum() == len(frame) - 1  # run 5's first file: never


def test_on_disk_must_be_a_flag(crawled):
    with Catalog(crawled, admin=True) as cat, pytest.raises(QueryError, match="on_disk"):
        cat.runs(on_disk="yes")


def test_query_command_on_disk(crawled):
    result = CliRunner().invoke(cli, ["query", "--catalog", crawled, "--admin", "--on-disk",
                                      "--json"])
    assert result.exit_code == 0, result.output
    assert [row["run"] for row in json.loads(result.output)] == [1, 2]
    result = CliRunner().invoke(cli, ["query", "--catalog", crawled, "--admin",
                                      "--not-on-disk", "--csv"])
    assert result.exit_code == 0
    assert [line.split(",")[1] for line in result.output.splitlines()[1:]] == ["3", "4", "5"]


def test_catalogue_and_file_access_agree_on_what_is_on_disk():
    assert set(ON_DISK_LOCALITIES) == ON_DISK_STATES
