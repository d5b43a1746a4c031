"""Planner statistics: made by a crawl that changes an SQLite catalogue."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from extra_catalog.catalog.statistics import refresh_statistics
from extra_catalog.index.crawler import CrawlOptions, crawl
from extra_catalog.testing import write_tree


def _stat_tables(catalog) -> set[str]:
    with catalog.session_scope() as session:
        exists = session.execute(text(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")).scalar_one()
        if not exists:
            return set()
        return set(session.scalars(text("SELECT DISTINCT tbl FROM sqlite_stat1")))


def _forget_statistics(catalog) -> None:
    """Drop what ANALYZE stored (a new catalogue has it from its migrations)."""
    with catalog.session_scope(write=True) as session:
        if session.execute(text("SELECT COUNT(*) FROM sqlite_master "
                                "WHERE name = 'sqlite_stat1'")).scalar_one():
            session.execute(text("DELETE FROM sqlite_stat1"))
    assert _stat_tables(catalog) == set()


def test_a_crawl_that_writes_refreshes_sqlite_statistics(catalog, tmp_path: Path) -> None:
    if not catalog.is_sqlite:
        assert refresh_statistics(catalog) is False  # autovacuum's job
        return
    _forget_statistics(catalog)
    write_tree(tmp_path)
    crawl(catalog, [tmp_path], CrawlOptions(settle=0, processes=1))
    # The tables cross-run queries join, with the indexes they choose between.
    assert {"runs", "files", "file_sources", "run_values", "keyset_keys"} <= _stat_tables(catalog)


def test_an_unchanged_recrawl_does_not_write(catalog, tmp_path: Path) -> None:
    if not catalog.is_sqlite:
        return
    write_tree(tmp_path)
    crawl(catalog, [tmp_path], CrawlOptions(settle=0, processes=1))
    _forget_statistics(catalog)
    summary = crawl(catalog, [tmp_path], CrawlOptions(settle=0, processes=1))
    assert summary.runs_new == summary.runs_changed == summary.runs_removed == 0
    assert _stat_tables(catalog) == set()
