"""Catalog.sql: the documented views, read-only enforcement and the time limit."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from extra_catalog.catalog import resolve_url
from extra_catalog.query import Catalog, QueryError, QueryTimeoutError
from extra_catalog.query.readonly import run_readonly

from .conftest import HIGH_TRAIN

#: The documented columns of each view (docs/query.rst): a stable interface.
VIEW_COLUMNS = {
    "runs": ["run_id", "proposal", "run", "data_category", "instrument", "cycle", "path",
             "first_train", "last_train", "n_trains", "n_suspect_trains", "n_files",
             "format_version", "creation_date", "update_date", "sample", "run_type",
             "n_problems", "indexed_at"],
    "files": ["file_id", "run_id", "proposal", "run", "data_category", "name", "path",
              "aggregator", "sequence", "size", "mtime", "state", "locality", "checked_at",
              "format_version"],
    "sources": ["run_id", "proposal", "run", "data_category", "source", "section",
                "n_files"],
    "keys": ["run_id", "proposal", "run", "data_category", "source", "section", "key",
             "dtype", "entry_shape", "unit"],
    "run_values": ["run_id", "proposal", "run", "data_category", "source", "key", "kind",
                   "dtype", "shape", "value_int", "value_float", "value_str", "summary"],
    "problems": ["problem_id", "run_id", "proposal", "run", "data_category", "file",
                 "check_name", "message", "source", "dataset", "train_id"],
}


@pytest.mark.parametrize("view", sorted(VIEW_COLUMNS))
def test_views_have_the_documented_columns(cat, view: str) -> None:
    frame = cat.sql(f"SELECT * FROM {view}")
    assert list(frame.columns) == VIEW_COLUMNS[view]
    assert len(frame) > 0


def test_views_answer_cross_run_questions(cat) -> None:
    both = cat.sql("SELECT DISTINCT proposal, run FROM keys WHERE source LIKE :s "
                   "AND key = 'image.data' ORDER BY run", {"s": "%AGIPD%"})
    assert both.values.tolist() == [[900001, 2]]
    value = cat.sql("SELECT value_float FROM run_values WHERE proposal = 900001 AND run = 1 "
                    "AND source = 'SPB_IRU_MOTORS/MOTOR/X' AND key = 'actualPosition.value'")
    run = cat.run_values(proposal=900001, run=1, source="SPB_IRU_MOTORS/MOTOR/X",
                         key="actualPosition")
    assert value.value_float.tolist() == run.value_float.tolist() and len(run) == 1
    files = cat.sql("SELECT COUNT(*) AS n FROM files WHERE proposal = 900001 AND run = 2 "
                    "AND data_category = 'raw'")
    assert files.n.tolist() == [4]


def test_train_ids_are_real_values_in_views(cat, filled_url: str) -> None:
    low = cat.sql("SELECT first_train, last_train FROM runs WHERE proposal = 900001 "
                  "AND run = 1")
    assert low.values.tolist() == [[10000, 10011]]
    high = cat.sql("SELECT first_train FROM runs WHERE proposal = 900002 AND run = 2")
    if filled_url.startswith("postgresql"):
        assert int(high.first_train[0]) == HIGH_TRAIN  # exact (NUMERIC)
    else:
        assert high.first_train[0] == pytest.approx(float(HIGH_TRAIN))  # REAL above 2**63


def test_own_with_clause_and_recursive_queries_work(cat) -> None:
    frame = cat.sql("WITH big AS (SELECT * FROM runs WHERE n_trains >= 12) "
                    "SELECT COUNT(*) AS n FROM big")
    assert frame.n.tolist() == [3]
    frame = cat.sql("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                    "WHERE x < 3) SELECT SUM(x) AS s FROM c")
    assert int(frame.s[0]) == 6


WRITES = [
    "INSERT INTO runs (proposal) VALUES (1)",
    "UPDATE runs SET sample = 'x'",
    "DELETE FROM problems",
    "DROP TABLE files",
    "DROP VIEW v_runs",
    "CREATE TABLE t (x INTEGER)",
    "ATTACH DATABASE '/tmp/other.sqlite' AS other",
    "PRAGMA query_only = OFF",
    "PRAGMA user_version = 5",
    "SELECT 1; DELETE FROM problems",
    "SELECT 1; SELECT 2",
    "ALTER TABLE sources ADD COLUMN x INTEGER",
]


def _counts(url: str) -> list[int]:
    engine = create_engine(resolve_url(url))
    try:
        with engine.connect() as connection:
            return [connection.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                    for t in ("runs", "files", "problems", "sources")]
    finally:
        engine.dispose()


@pytest.mark.parametrize("statement", WRITES)
def test_writes_and_several_statements_are_refused(cat, filled_url: str,
                                                   statement: str) -> None:
    before = _counts(filled_url)
    with pytest.raises(QueryError):
        cat.sql(statement)
    assert _counts(filled_url) == before
    assert len(cat.sql("SELECT * FROM runs")) == before[0]  # the connection still works


DISGUISED = [
    "WITH x AS (SELECT 1) DELETE FROM problems",
    "WITH x AS (SELECT 1) UPDATE runs SET sample = 'changed'",
    "WITH x AS (SELECT 1) INSERT INTO sources (name) VALUES ('NEW/SOURCE')",
]


@pytest.mark.parametrize("statement", DISGUISED)
def test_the_database_itself_refuses_writes(cat, filled_url: str, statement: str) -> None:
    # These pass the text checks (they start with WITH): the database must refuse.
    before = _counts(filled_url)
    with pytest.raises(QueryError, match="read-only|readonly|not authorized"):
        run_readonly(cat._store.engine, statement, None, timeout=5)
    assert _counts(filled_url) == before
    assert cat.runs()["sample"].tolist().count("changed") == 0


def test_mistakes_are_pointed_at(cat) -> None:
    with pytest.raises(QueryError, match="nosuchcolumn"):
        cat.sql("SELECT nosuchcolumn FROM runs")
    with pytest.raises(QueryError, match=r"one statement.*\n.*\n +\^"):
        cat.sql("SELECT 1; SELECT 2")
    with pytest.raises(QueryError, match="unclosed string"):
        cat.sql("SELECT 'abc FROM runs")
    # A keyword inside a string is data, not a command.
    assert cat.sql("SELECT 'DELETE; DROP' AS t").t.tolist() == ["DELETE; DROP"]


def test_runaway_query_is_stopped(cat) -> None:
    endless = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
               "SELECT COUNT(*) FROM c")
    with pytest.raises(QueryTimeoutError, match="time limit"):
        cat.sql(endless, timeout=0.3)
    assert cat.sql("SELECT COUNT(*) AS n FROM runs").n.tolist() == [6]


def test_default_timeout_comes_from_the_catalog(filled_url: str) -> None:
    with Catalog(filled_url, admin=True, timeout=0.3) as quick:
        with pytest.raises(QueryTimeoutError):
            quick.sql("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                      "SELECT MAX(x) FROM c")
