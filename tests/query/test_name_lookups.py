"""Plain names go straight into the SQL; only globs list the catalogue's names.

Listing the distinct RUN value keys reads a whole table on PostgreSQL, so a
query naming its source and keys exactly must not do it, and must answer as
the equivalent glob does.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import event

MOTOR = "SPB_IRU_MOTORS/MOTOR/X"


@contextmanager
def _statements(cat: Any) -> Iterator[list[str]]:
    found: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        found.append(" ".join(statement.split()))

    engine = cat._store.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _ids(frame: Any) -> set[tuple[int, int, str]]:
    return set(zip(frame["proposal"], frame["run"], frame["data_category"]))


def test_plain_names_are_not_looked_up(cat) -> None:
    with _statements(cat) as statements:
        plain = cat.runs(source=MOTOR, key="actualPosition", sample="Lysozyme",
                         run_values=[f"{MOTOR} actualPosition > -1e9"])
    listings = [s for s in statements if s.startswith((
        "SELECT sources.name FROM sources", "SELECT DISTINCT keyset_keys.name",
        'SELECT DISTINCT run_values."key"', "SELECT DISTINCT run_values.key",
        "SELECT DISTINCT runs.sample"))]
    assert listings == []
    # A one-character class makes each of them a glob, listed and matched in Python.
    globbed = cat.runs(source="SPB_IRU_MOTORS/MOTOR/[X]", key="actualPositio[n]",
                       sample="Lysozym[e]",
                       run_values=["SPB_IRU_MOTORS/MOTOR/[X] actualPositio[n].value > -1e9"])
    assert len(plain) == 1 and _ids(plain) == _ids(globbed)


def test_names_that_are_not_stored_match_nothing(cat) -> None:
    assert cat.runs(source="NO/SUCH/SOURCE").empty
    assert cat.runs(source=MOTOR, key="noSuchKey").empty
    assert cat.runs(run_values=[f"{MOTOR} noSuchKey > 0"]).empty
    assert cat.runs(run_values=["NO/SUCH/SOURCE actualPosition > -1e9"]).empty
    assert cat.runs(sample="No such sample").empty
    assert cat.keys(source="NO/SUCH/SOURCE").empty
    assert cat.run_values(source=MOTOR, key="noSuchKey").empty
    # The same names with the right spelling do match.
    assert not cat.keys(source=MOTOR, key="actualPosition").empty
    assert not cat.run_values(source=MOTOR, key="actualPosition").empty
