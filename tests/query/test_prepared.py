"""Catalog.runs reuses compiled statements, but never an answer that may have changed.

Each Catalog keeps the compiled statement of recent queries with the
look-ups it was built from (aliases of a source name, names matching a
glob); a statement is reused only while those look-ups answer the same.
Counted here: statements built and SQL statements run per call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError

from extra_catalog.catalog import init_catalog, open_catalog
from extra_catalog.index.crawler import CrawlOptions, crawl
from extra_catalog.query import Catalog, prepared
from extra_catalog.query.rawsql import DriverSQL, raw_reader
from extra_catalog.query.terms import RunQuery
from extra_catalog.testing import write_tree
from extra_catalog.testing.tree import ProposalSpec, RunSpec

from .conftest import BACKENDS, HIGH_TRAIN, crawled_catalogue

JUNGFRAU = "SPB_IRDA_JF4M/DET/JNGFR01:daqOutput"


@contextmanager
def _statements(cat: Catalog) -> Iterator[list[str]]:
    """The SQL statements run on the catalogue's engine (first word, upper case)."""
    found: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        found.append(statement)

    event.listen(cat._store.engine, "before_cursor_execute", record)
    try:
        yield found
    finally:
        event.remove(cat._store.engine, "before_cursor_execute", record)


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[RunQuery]:
    """The queries whose run statement was built (not reused)."""
    built: list[RunQuery] = []
    original = prepared.runs_select

    def counting(lookup: Any, query: RunQuery, visible: Any) -> Any:
        built.append(query)
        return original(lookup, query, visible)

    monkeypatch.setattr(prepared, "runs_select", counting)
    return built


def _selects(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def test_repeated_call_reuses_the_statement(cat: Catalog, builds: list[RunQuery]) -> None:
    first = cat.runs(source=JUNGFRAU)
    with _statements(cat) as statements:
        again = cat.runs(source=JUNGFRAU)
    assert len(builds) == 1
    # The alias look-up of the source name (validating the statement), then the runs.
    selects = _selects(statements)
    assert len(selects) == 2 and "proposal_aliases" in selects[0]
    assert again.equals(first) and list(again["run"]) == [2]


def test_filters_without_names_run_one_select(cat: Catalog, builds: list[RunQuery]) -> None:
    cat.runs(proposal=900001, min_trains=5)
    with _statements(cat) as statements:
        cat.runs(proposal=900001, min_trains=5)
    assert len(_selects(statements)) == 1
    assert len(builds) == 1


def test_each_filter_gets_its_own_statement(cat: Catalog, builds: list[RunQuery]) -> None:
    cat.runs(proposal=900001)
    cat.runs(proposal=900002)
    cat.runs(train=HIGH_TRAIN + 3)
    cat.runs(train=HIGH_TRAIN + 3)
    assert len(builds) == 3
    assert list(cat.runs(proposal=900002)["run"]) == [1, 2]
    assert list(cat.runs(train=HIGH_TRAIN + 3)["first_train"]) == [HIGH_TRAIN]


def test_statements_differing_in_values_share_one_compilation(filled_url: str) -> None:
    with Catalog(filled_url, admin=True) as cat:
        one = cat.runs(proposal=900001, min_trains=7)
        other = cat.runs(proposal=900002, min_trains=10)
        both = cat.runs(proposal=[900001, 900002], min_trains=0)
        # One compiled shape; each statement brings its own values.
        assert len(cat._prepared._compiled) == 1 and len(cat._prepared._runs) == 3
    assert set(zip(one["proposal"], one["run"])) == {(900001, 1), (900001, 3)}
    assert set(zip(other["proposal"], other["run"])) == {(900002, 2)}
    assert len(both) == 6  # every run of the two proposals (raw and proc)


def test_least_recently_used_statements_are_dropped(filled_url: str,
                                                    builds: list[RunQuery]) -> None:
    with Catalog(filled_url, admin=True) as cat:
        cat._prepared.size = 2
        for number in (900001, 900002, 900001, 900003, 900001):
            cat.runs(proposal=number)
        # 900001 was kept (used last); 900002 made way for 900003.
        assert len(builds) == 3 and len(cat._prepared._runs) == 2
        cat.runs(proposal=900002)
        assert len(builds) == 4


def test_visible_proposals_are_part_of_the_key(filled_url: str,
                                               builds: list[RunQuery]) -> None:
    readable = {"p900001"}
    with Catalog(filled_url, can_read=lambda d: Path(d).name in readable) as cat:
        assert set(cat.runs()["proposal"]) == {900001}
        readable.add("p900002")
        cat.visibility.forget()
        assert set(cat.runs()["proposal"]) == {900001, 900002}
        assert len(builds) == 2


@pytest.fixture(params=BACKENDS)
def growing(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A catalogue of one proposal without detectors, and its tree (to add to)."""
    root = tmp_path / "tree"
    write_tree(root, spec=[ProposalSpec(900031, "SPB", "202601", (RunSpec(1, n_trains=5),))])
    with crawled_catalogue(request, tmp_path, root) as url:
        yield url, root


def test_glob_statement_sees_new_sources_and_runs(growing: tuple[str, Path],
                                                  builds: list[RunQuery]) -> None:
    url, root = growing
    with Catalog(url, admin=True) as cat:
        assert cat.runs(source="*/DET/JNGFR*").empty
        assert len(cat.runs(proposal=900031)) == 1
        write_tree(root, spec=[ProposalSpec(900031, "SPB", "202601", (
            RunSpec(1, n_trains=5), RunSpec(2, n_trains=7, detector="JUNGFRAU", n_modules=1)))])
        with open_catalog(url) as store:
            crawl(store, [root], CrawlOptions(settle=0, processes=1))
        # The glob now matches a new source name: a new statement.
        found = cat.runs(source="*/DET/JNGFR*")
        assert list(found["run"]) == [2] and list(found["n_trains"]) == [7]
        # Same statement (no look-ups), new answer: results are not cached.
        assert list(cat.runs(proposal=900031)["run"]) == [1, 2]
    assert len(builds) == 3


def test_raw_reader_errors_are_sqlalchemy_errors(filled_url: str) -> None:
    with open_catalog(filled_url) as store:
        broken = DriverSQL("SELECT no_such_column FROM runs", (), (), True)
        with pytest.raises(DBAPIError, match="no_such_column"):
            with raw_reader(store.engine) as reader:
                reader.fetch(broken)
        assert store.engine.pool.checkedout() == 0
        with raw_reader(store.engine) as reader:
            assert reader.fetch(DriverSQL("SELECT 1", (), (), True)) == [(1,)]


def test_compiled_parameters_are_processed(tmp_path: Path) -> None:
    from sqlalchemy import select

    from extra_catalog.catalog.models import Run

    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    init_catalog(url)
    with open_catalog(url) as store:
        stmt = select(Run.id).where(Run.first_train <= 2**64 - 1, Run.number.in_([3, 4]))
        compiled = DriverSQL.compile(stmt, store.engine.dialect)
    # UInt64 is stored as value - 2**63; IN lists are expanded.
    assert compiled.values == (2**63 - 1, 3, 4)
    assert compiled.sql.count("?") == 3


def _orm_runs(cat: Catalog, **filters: Any) -> Any:
    """Catalog.runs as it was built before: ORM session, from_records, UInt64 columns."""
    import pandas as pd

    from extra_catalog.query.translate import RUN_COLUMNS, SessionLookup, runs_select

    with cat._store.session_scope() as session:
        stmt = runs_select(SessionLookup(session), RunQuery.build(**filters), None)
        rows = [tuple(row) for row in session.execute(stmt)]
    frame = pd.DataFrame.from_records(rows, columns=list(RUN_COLUMNS))
    for name in ("first_train", "last_train"):
        at = RUN_COLUMNS.index(name)
        frame[name] = pd.array([row[at] for row in rows], dtype="UInt64")
    return frame


@pytest.mark.parametrize("filters", [
    {}, {"source": JUNGFRAU}, {"proposal": 900001}, {"proposal": 900009},
    {"sample": "Lyso*"}, {"train": HIGH_TRAIN + 1}, {"has_problems": True},
    {"source": "*", "key": "data.adc"},
])
def test_runs_equal_the_orm_frames(cat: Catalog, filters: dict[str, Any]) -> None:
    got, expected = cat.runs(**filters), _orm_runs(cat, **filters)
    pd_testing = pytest.importorskip("pandas").testing
    pd_testing.assert_frame_equal(got, expected, check_exact=True)
    assert list(got.dtypes) == list(expected.dtypes)
    assert type(got.index) is type(expected.index)


def test_long_answers_are_kept_as_digests() -> None:
    names = [(f"SRC/{i}",) for i in range(1000)]
    kept = prepared.fingerprint(names)
    assert kept == prepared.fingerprint(list(names))
    assert kept != prepared.fingerprint(names[:-1] + [("SRC/x",)])
    assert kept != prepared.fingerprint(names[:-1])
    assert prepared.fingerprint(names[:3]) == names[:3]
