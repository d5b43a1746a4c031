"""Query-planner statistics of a catalogue.

SQLite plans a query from the statistics ``ANALYZE`` stores (``sqlite_stat1``)
and nothing else. Without them it takes every indexed equality for a
selective one, and "runs where motor M was between a and b" starts from the
RUN value key index (every motor of every run) instead of from the source M
(the few file sources that have it): about a second on 10,000 runs instead
of tens of milliseconds, ten times worse on 100,000 (see
``benchmarks/bench_query.py``). The crawler therefore refreshes them after a
crawl that changed the catalogue, and a migration makes them for existing
catalogues. ``PRAGMA analysis_limit`` bounds the rows ``ANALYZE`` reads per
index, so a refresh stays well under a second whatever the catalogue's size.

PostgreSQL keeps its statistics up to date itself (autovacuum).
"""

from __future__ import annotations

from sqlalchemy import text

from .engine import Catalog

__all__ = ["ANALYSIS_LIMIT", "refresh_statistics"]

#: Rows ``ANALYZE`` reads per index on SQLite: approximate statistics are
#: enough to pick the selective side of a join.
ANALYSIS_LIMIT = 1000


def refresh_statistics(catalog: Catalog) -> bool:
    """Refresh the query planner's statistics of an SQLite catalogue.

    Returns
    -------
    bool
        Whether statistics were refreshed (False on PostgreSQL, which does
        it on its own).
    """
    if not catalog.is_sqlite:
        return False
    with catalog.session_scope(write=True) as session:
        session.execute(text(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}"))
        session.execute(text("ANALYZE"))
    return True
