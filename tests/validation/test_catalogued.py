"""The crawler stores the validator's findings; answers from the catalogue."""

from __future__ import annotations

import os

import pytest

from extra_catalog.catalog import load_run
from extra_catalog.index.crawler import CrawlOptions, crawl
from extra_catalog.testing import write_run
from extra_catalog.validation import RunValidator
from extra_catalog.validation.catalogued import is_unchanged, stored_problems
from query.conftest import BACKENDS, _drop_schema, _pg_schema  # the query tests' PG schemas

RUNS = {
    "r0001": (),
    "r0002": ("index_gaps",),
    "r0003": ("overlapping_sequences",),
    "r0004": ("hanging_file", "control_timestamps_backwards"),
    "r0005": ("truncated",),
    "r0006": ("index_short",),
}


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    top = tmp_path_factory.mktemp("tree")
    root = top / "SPB" / "202601" / "p900001" / "raw"
    for name, faults in RUNS.items():
        write_run(root / name, run=int(name[1:]), n_trains=40, trains_per_sequence=15,
                  faults=faults, processes=1)
    return top


@pytest.fixture(scope="module", params=BACKENDS)
def crawled(request, tree, tmp_path_factory):
    """The tree crawled once per backend (the tests only read the catalogue)."""
    from extra_catalog.catalog import init_catalog, open_catalog

    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('cat') / 'catalog.sqlite'}"
    else:
        url, schema = _pg_schema(request.getfixturevalue("pg_database"))
    init_catalog(url)
    with open_catalog(url) as catalog:
        crawl(catalog, [tree], CrawlOptions(settle=0, processes=2, timeout=2))
        yield tree / "SPB" / "202601" / "p900001" / "raw", catalog
    if schema is not None:
        _drop_schema(request.getfixturevalue("pg_database"), schema)


def _essence(problems: list[dict]) -> list[tuple]:
    return sorted(tuple(sorted(p.items())) for p in problems)


@pytest.mark.parametrize("name", sorted(RUNS))
def test_stored_problems_are_the_validators(crawled, name) -> None:
    root, catalog = crawled
    run = load_run(catalog, str(root / name))
    assert is_unchanged(str(root / name), run)
    fresh = RunValidator(root / name, timeout=2, catalog=catalog).run_checks()
    stored = stored_problems(run)
    # The FIFO: the crawler refuses it at once as not a regular file; the
    # validator reads its first bytes, as EXtra-data does, and times out.
    fifo = [p for p in stored + fresh if "DA99" in p.get("file", "")]
    assert len(fifo) == (2 if "hanging_file" in RUNS[name] else 0)
    assert _essence([p for p in stored if p not in fifo]) == \
        _essence([p for p in fresh if p not in fifo])
    assert bool(stored) == bool(RUNS[name])


def test_catalog_problems_answer_which_runs_are_bad(crawled) -> None:
    from extra_catalog.query import Catalog

    root, catalog = crawled
    with Catalog(catalog.url, admin=True) as cat:
        problems = cat.problems()
        by_run = {run: set(group["check_name"]) for run, group in problems.groupby("run")}
        assert by_run == {2: {"index_instrument"}, 3: {"sequence_overlap"},
                          4: {"unreadable", "control_timestamps_order"}, 5: {"unreadable"},
                          6: {"index_control", "index_instrument"}}
        bad_index = cat.sql("SELECT DISTINCT run FROM problems WHERE check_name LIKE 'index_%'")
        assert list(bad_index["run"]) == [2, 6]
        assert list(cat.runs(has_problems=False)["run"]) == [1]


def test_recrawl_replaces_run_level_problems(tmp_path, catalog) -> None:
    run_dir = tmp_path / "r0003"
    write_run(run_dir, run=3, n_trains=40, trains_per_sequence=15,
              faults=("overlapping_sequences",), processes=1)
    crawl(catalog, [run_dir], CrawlOptions(settle=0, processes=1))
    (problem,) = stored_problems(load_run(catalog, str(run_dir)))
    assert problem["check"] == "sequence_overlap"
    os.remove(run_dir / "RAW-R0003-DA01-S00001.h5")
    crawl(catalog, [run_dir], CrawlOptions(settle=0, processes=1))
    assert stored_problems(load_run(catalog, str(run_dir))) == []
