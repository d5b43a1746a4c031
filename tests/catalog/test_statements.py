"""load_run costs a small, constant number of SQL statements."""

from __future__ import annotations

from contextlib import contextmanager

from _catalog_factory import run_info, small_run
from sqlalchemy import event

from extra_catalog.catalog import load_run, replace_run


@contextmanager
def _counting(engine):
    statements: list[str] = []

    def _count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def _statements_to_load(catalog, path, n_modules, n_seqs):
    files = small_run(path, n_modules=n_modules, n_seqs=n_seqs)
    replace_run(catalog, run_info(path), files)
    with _counting(catalog.engine) as statements:
        loaded = load_run(catalog, path)
    assert len(loaded.files) == len(files)
    return [s for s in statements if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]


def test_load_run_statement_count_does_not_grow_with_files(catalog):
    few = _statements_to_load(catalog, "/exp/SPB/202601/p900001/raw/r0001", 1, 1)
    many = _statements_to_load(catalog, "/exp/SPB/202601/p900001/raw/r0002", 8, 10)
    assert len(many) == len(few) <= 10


def test_replace_run_statement_count_does_not_grow_with_files(catalog):
    # The first run also creates the shared rows (keysets, source names):
    # compare the runs after it.
    counts = []
    for i, (modules, seqs) in enumerate([(8, 10), (1, 1), (8, 10)]):
        path = f"/exp/SPB/202601/p900001/raw/r{i:04d}"
        files = small_run(path, n_modules=modules, n_seqs=seqs)
        with _counting(catalog.engine) as statements:
            replace_run(catalog, run_info(path, run=i), files)
        counts.append(len(statements))
    assert counts[1] == counts[2] < 25
