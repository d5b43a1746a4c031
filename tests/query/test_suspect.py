"""Suspect trains per run: the crawler's count, the filters and the view, vs FileAccess."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import pytest
from click.testing import CliRunner

from extra_catalog.cli.xfel_index import cli
from extra_catalog.fileaccess import FileAccess
from extra_catalog.fileaccess.codec import decode_array
from extra_catalog.index.crawler import CrawlOptions, crawl
from extra_catalog.query import QueryError
from extra_catalog.testing import write_tree
from extra_catalog.testing.tree import ProposalSpec, RunSpec

from .conftest import BACKENDS, crawled_catalogue

PROPOSAL = 900010

SPEC = (ProposalSpec(PROPOSAL, "SPB", "202601", (
    # Run 1: train 3 is made suspect in one module file only -> good elsewhere.
    RunSpec(1, n_trains=10, detector="AGIPD1M", n_modules=2, frame_shape=(4, 4)),
    # Run 2: trains 2 and 3 suspect everywhere, then train 3 made good in one file.
    RunSpec(2, n_trains=10, detector="AGIPD1M", n_modules=2, frame_shape=(4, 4),
            suspect_train_ids=(2, 3)),
    RunSpec(3, n_trains=8, suspect_train_ids=(1, 4, 5)),
    # Format 1.1 writes the flag with the opposite meaning.
    RunSpec(4, format_version="1.1", n_trains=8, suspect_train_ids=(0,)),
    RunSpec(5, format_version="0.5", n_trains=5),
)),)


def _set_flag(run_dir: Path, position: int, good: bool) -> None:
    """Flag one train good or suspect in the first module file (format >= 1.2)."""
    path = sorted(run_dir.glob("RAW-*-AGIPD00-S*.h5"))[0]
    with h5py.File(path, "r+") as f:
        f["INDEX/flag"][position] = int(good)


@pytest.fixture(scope="module")
def suspect_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("suspect")
    runs = write_tree(root, spec=SPEC)
    by_number = {int(p.name[1:]): p for p in runs if p.parent.name == "raw"}
    _set_flag(by_number[1], 3, good=False)
    _set_flag(by_number[2], 3, good=True)
    return root


@pytest.fixture(scope="module", params=BACKENDS)
def suspect_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                suspect_tree: Path) -> Iterator[str]:
    """A catalogue of the suspect-train tree, crawled once per backend."""
    with crawled_catalogue(request, tmp_path_factory.mktemp("suspect_db"), suspect_tree) as url:
        yield url


@pytest.fixture
def suspect_cat(suspect_url: str) -> Iterator[Any]:
    from extra_catalog.query import Catalog

    with Catalog(suspect_url, admin=True) as cat:
        yield cat


def _brute_force(root: Path) -> dict[int, int]:
    """Run number -> trains suspect in some file and good in none, from every file."""
    counts = {}
    for run_dir in sorted(root.glob("*/*/p*/raw/r*")):
        good: set[int] = set()
        suspect: set[int] = set()
        for path in sorted(run_dir.glob("*.h5")):
            fa = FileAccess(str(path))
            good.update(int(t) for t in fa.train_ids[fa.validity_flag])
            suspect.update(int(t) for t in fa.train_ids[~fa.validity_flag])
        counts[int(run_dir.name[1:])] = len(suspect - good)
    return counts


def test_brute_force_tree_has_the_intended_cases(suspect_tree: Path) -> None:
    # Guards the comparisons below: flipped flags must have taken effect.
    assert _brute_force(suspect_tree) == {1: 0, 2: 1, 3: 3, 4: 1, 5: 0}


def test_counts_and_filters_equal_a_brute_force_scan(suspect_cat, suspect_tree: Path) -> None:
    expected = _brute_force(suspect_tree)
    runs = suspect_cat.runs(proposal=PROPOSAL)
    assert dict(zip(runs["run"], runs["n_suspect_trains"])) == expected
    with_suspect = suspect_cat.runs(proposal=PROPOSAL, has_suspect_trains=True)
    without = suspect_cat.runs(proposal=PROPOSAL, has_suspect_trains=False)
    assert set(with_suspect["run"]) == {r for r, n in expected.items() if n > 0}
    assert set(without["run"]) == {r for r, n in expected.items() if n == 0}
    bounded = suspect_cat.runs(proposal=PROPOSAL, min_suspect_trains=1, max_suspect_trains=2)
    assert set(bounded["run"]) == {r for r, n in expected.items() if 1 <= n <= 2}


def test_good_train_count_leaves_out_only_the_suspect_trains(suspect_cat) -> None:
    runs = suspect_cat.runs(proposal=PROPOSAL).set_index("run")
    # Every generated train is in the run either as good or as suspect.
    assert (runs.loc[2, "n_trains"], runs.loc[2, "n_suspect_trains"]) == (9, 1)
    assert (runs.loc[3, "n_trains"], runs.loc[3, "n_suspect_trains"]) == (5, 3)


def test_runs_view_has_the_count(suspect_cat) -> None:
    rows = suspect_cat.sql("SELECT run, n_suspect_trains FROM runs WHERE proposal = :p "
                           "AND n_suspect_trains > 0 ORDER BY run", {"p": PROPOSAL})
    assert list(zip(rows["run"], rows["n_suspect_trains"])) == [(2, 1), (3, 3), (4, 1)]


def test_run_info_from_files_counts_the_same(suspect_tree: Path) -> None:
    from extra_catalog.catalog import RunInfo

    run_dir = next(suspect_tree.glob("*/*/p*/raw/r0002"))
    records = [FileAccess(str(p)).to_record() for p in sorted(run_dir.glob("*.h5"))]
    info = RunInfo.from_files(instrument="SPB", cycle="202601", proposal=PROPOSAL, run=2,
                              data_category="raw", path=str(run_dir), files=records,
                              decode=lambda b: decode_array(b).tolist())
    assert (info.n_trains, info.n_suspect_trains) == (9, 1)


def test_bad_suspect_filters_name_the_problem(suspect_cat) -> None:
    with pytest.raises(QueryError, match="has_suspect_trains='yes'"):
        suspect_cat.runs(has_suspect_trains="yes")
    with pytest.raises(QueryError, match="min_suspect_trains=-1"):
        suspect_cat.runs(min_suspect_trains=-1)


def test_cli_has_suspect_trains(suspect_url: str) -> None:
    url = suspect_url
    runner = CliRunner()
    result = runner.invoke(cli, ["query", "--catalog", url, "--admin", "--json",
                                 "-p", str(PROPOSAL), "--has-suspect-trains"])
    assert result.exit_code == 0, result.output
    assert [r["run"] for r in json.loads(result.stdout)] == [2, 3, 4]
    result = runner.invoke(cli, ["query", "--catalog", url, "--admin", "--csv",
                                 "-p", str(PROPOSAL), "--no-suspect-trains"])
    assert result.exit_code == 0, result.output
    assert [line.split(",")[1] for line in result.stdout.splitlines()[1:]] == ["1", "5"]
