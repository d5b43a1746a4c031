"""``xfel-index query`` and ``xfel-index sql``: output formats and exit status."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from extra_catalog.cli.xfel_index import cli


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_query_prints_an_aligned_table(filled_url: str) -> None:
    code, out, _ = _run("query", "--catalog", filled_url, "--admin", "--source", "*AGIPD*")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["proposal", "run", "data_category"]
    assert len(lines) == 3 and {line.split()[2] for line in lines[1:]} == {"raw", "proc"}
    # Aligned: every row has its run number right below the header's "run".
    column = lines[0].index("run") + len("run") - 1
    assert all(line[column] == "2" for line in lines[1:])


def test_query_filters_as_options(filled_url: str) -> None:
    code, out, _ = _run("query", "--catalog", filled_url, "--admin", "--json",
                        "-p", "900001", "--runs", "2-", "--data", "raw",
                        "--run-value", "SPB_IRU_MOTORS/MOTOR/X actualPosition > 0",
                        "--min-trains", "5")
    assert code == 0
    assert [(r["proposal"], r["run"]) for r in json.loads(out)] == [(900001, 2), (900001, 3)]
    code, out, _ = _run("query", "--catalog", filled_url, "--admin", "--csv", "--problems")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [(r["proposal"], r["run"]) for r in rows] == [("900001", "3")]


def test_no_results_exit_1(filled_url: str) -> None:
    code, out, err = _run("query", "--catalog", filled_url, "--admin", "--source", "NOPE*")
    assert (code, out) == (1, "")
    assert "no matching rows" in err
    code, out, _ = _run("sql", "--catalog", filled_url, "--json",
                        "SELECT * FROM runs WHERE run > 99")
    assert (code, json.loads(out)) == (1, [])


def test_sql_with_params_and_csv(filled_url: str) -> None:
    code, out, _ = _run("sql", "--catalog", filled_url, "--csv", "--param", "n=12",
                        "SELECT proposal, run FROM runs WHERE n_trains >= :n ORDER BY run")
    assert code == 0
    assert out.splitlines() == ["proposal,run", "900001,1", "900002,2", "900001,3"]


@pytest.mark.parametrize("args, message", [
    (["sql", "SELECT nosuchcolumn FROM runs"], "nosuchcolumn"),
    (["sql", "DELETE FROM runs"], "read-only"),
    (["sql", "SELECT 1; SELECT 2"], "one statement"),
    (["query", "--run-value", "MOTOR/X pos 3"], "SOURCE KEY OP VALUE"),
    (["query", "--runs", "a-b"], "FIRST-LAST"),
    (["sql", "--param", "1x=2", "SELECT 1"], "NAME=VALUE"),
])
def test_bad_queries_exit_2_with_a_message(filled_url: str, args: list[str],
                                           message: str) -> None:
    code, out, err = _run(args[0], "--catalog", filled_url, *args[1:])
    assert code == 2
    assert message in err and "Traceback" not in err


def test_runaway_sql_is_stopped_with_exit_2(filled_url: str) -> None:
    code, _, err = _run("sql", "--catalog", filled_url, "--timeout", "0.3",
                        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                        "SELECT COUNT(*) FROM c")
    assert code == 2 and "time limit" in err
