"""Proposal alias files, recorded by the crawler, make alias names usable in queries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from extra_catalog.catalog.aliases import proposal_aliases
from extra_catalog.cli.xfel_index import cli
from extra_catalog.index.crawler import CrawlOptions, crawl
from extra_catalog.testing import write_tree
from extra_catalog.testing.tree import ProposalSpec, RunSpec

from .conftest import BACKENDS, crawled_catalogue

SPEC = (
    ProposalSpec(900021, "SPB", "202601", (RunSpec(1, n_trains=5), RunSpec(2, n_trains=5))),
    ProposalSpec(900022, "FXE", "202601", (RunSpec(1, n_trains=5, n_control_sources=1),)),
    ProposalSpec(900023, "MID", "202601", (RunSpec(1, n_trains=5),)),
)
ALIASES = {
    # 'xgm' means a different device in each proposal.
    900021: "xgm: SA1_XTD2_XGM/DOOCS/MAIN\n"
            "Motor_X: [SPB_IRU_MOTORS/MOTOR/X, actualPosition]\n"
            "no-such: NOT/A/SOURCE\n",
    900022: "XGM: SPB_XTD9_XGM/DOOCS/MAIN:output\n",
}


def _proposal_dir(root: Path, number: int) -> Path:
    return next(root.glob(f"*/*/p{number:06d}"))


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("alias_tree")
    write_tree(root, spec=SPEC)
    for number, text in ALIASES.items():
        usr = _proposal_dir(root, number) / "usr"
        usr.mkdir(exist_ok=True)
        (usr / "extra-data-aliases.yml").write_text(text)
    return root


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path, tree: Path) -> Iterator[str]:
    with crawled_catalogue(request, tmp_path, tree) as url:
        yield url


def _runs(url: str, **filters: Any) -> set[tuple[int, int]]:
    from extra_catalog.query import Catalog

    with Catalog(url, admin=True) as cat:
        frame = cat.runs(**filters)
    return set(zip(frame["proposal"], frame["run"]))


def test_crawler_records_each_proposal_alias_file(url: str) -> None:
    from extra_catalog.catalog import open_catalog

    with open_catalog(url) as store:
        assert proposal_aliases(store, 900021) == {
            "xgm": "SA1_XTD2_XGM/DOOCS/MAIN",
            "motor-x": ("SPB_IRU_MOTORS/MOTOR/X", "actualPosition"),
            "no-such": "NOT/A/SOURCE"}
        assert proposal_aliases(store, 900022) == {"xgm": "SPB_XTD9_XGM/DOOCS/MAIN:output"}
        assert proposal_aliases(store, 900023) == {}


def test_alias_names_select_runs_per_proposal(url: str) -> None:
    # Every generated run has both XGMs; the alias only counts where it is defined,
    # for the source it stands for there (a control source in one, fast data in the other).
    assert _runs(url, source="xgm") == {(900021, 1), (900021, 2), (900022, 1)}
    assert _runs(url, source="XGM") == _runs(url, source="xgm")
    assert _runs(url, source="xgm", key="data.intensityTD") == {(900022, 1)}
    assert _runs(url, source="xgm", key="pulseEnergy.photonFlux") == {
        (900021, 1), (900021, 2)}
    # A (source, key) alias brings its key.
    assert _runs(url, source="motor_x") == {(900021, 1), (900021, 2)}
    assert _runs(url, source="no-such") == set()
    # Globs and real names are unchanged.
    assert _runs(url, source="SA1_XTD2_XGM/DOOCS/MAIN") == {
        (900021, 1), (900021, 2), (900022, 1), (900023, 1)}


def test_alias_in_run_value_conditions(url: str) -> None:
    assert _runs(url, run_values=["xgm deviceId == 'SA1_XTD2_XGM/DOOCS/MAIN'"]) == {
        (900021, 1), (900021, 2)}


def test_changed_and_removed_alias_files(url: str, tree: Path) -> None:
    from extra_catalog.catalog import open_catalog

    alias_file = _proposal_dir(tree, 900022) / "usr" / "extra-data-aliases.yml"
    try:
        alias_file.write_text("beam: SPB_XTD9_XGM/DOOCS/MAIN\n")
        with open_catalog(url) as store:
            crawl(store, [tree], CrawlOptions(settle=0, processes=1))
            assert proposal_aliases(store, 900022) == {"beam": "SPB_XTD9_XGM/DOOCS/MAIN"}
        alias_file.write_text("beam: [unclosed\n")
        with open_catalog(url) as store:
            summary = crawl(store, [tree], CrawlOptions(settle=0, processes=1))
            # A broken file is reported and the recorded aliases are kept.
            assert any("extra-data-aliases.yml" in p for p in summary.problems)
            assert proposal_aliases(store, 900022) == {"beam": "SPB_XTD9_XGM/DOOCS/MAIN"}
        alias_file.unlink()
        with open_catalog(url) as store:
            crawl(store, [tree], CrawlOptions(settle=0, processes=1))
            assert proposal_aliases(store, 900022) == {}
    finally:
        alias_file.write_text(ALIASES[900022])


def test_one_catalog_sees_aliases_added_and_removed_by_a_crawl(url: str, tree: Path) -> None:
    # The same Catalog object across crawls: its compiled statements must follow
    # the recorded aliases (the statement of 'beam' is reused only while they stay).
    from extra_catalog.catalog import open_catalog
    from extra_catalog.query import Catalog

    def runs(cat: Catalog, **filters: Any) -> set[tuple[int, int]]:
        frame = cat.runs(**filters)
        return set(zip(frame["proposal"], frame["run"]))

    def crawled() -> None:
        with open_catalog(url) as store:
            crawl(store, [tree], CrawlOptions(settle=0, processes=1))

    alias_file = _proposal_dir(tree, 900023) / "usr" / "extra-data-aliases.yml"
    with Catalog(url, admin=True) as cat:
        try:
            assert runs(cat, source="beam") == set()
            assert runs(cat, source="beam") == set()
            alias_file.parent.mkdir(exist_ok=True)
            alias_file.write_text("beam: SA1_XTD2_XGM/DOOCS/MAIN\n")
            crawled()
            assert runs(cat, source="beam") == {(900023, 1)}
            assert runs(cat, run_values=["beam deviceId == 'SA1_XTD2_XGM/DOOCS/MAIN'"]) == {
                (900023, 1)}
            alias_file.write_text("beam: SPB_XTD9_XGM/DOOCS/MAIN:output\n")
            crawled()
            assert runs(cat, source="beam", key="data.intensityTD") == {(900023, 1)}
            assert runs(cat, run_values=["beam deviceId == 'SA1_XTD2_XGM/DOOCS/MAIN'"]) == set()
        finally:
            alias_file.unlink(missing_ok=True)
        crawled()
        assert runs(cat, source="beam") == set()


def test_cli_source_alias(url: str) -> None:
    result = CliRunner().invoke(cli, ["query", "--catalog", url, "--admin", "--json",
                                      "--source", "xgm", "--key", "data.intensityTD"])
    assert result.exit_code == 0, result.output
    assert [(r["proposal"], r["run"]) for r in json.loads(result.stdout)] == [(900022, 1)]
