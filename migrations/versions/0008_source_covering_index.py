"""Cross-run queries by source: a covering index, and SQLite planner statistics.

``file_sources(source_id)`` becomes ``file_sources(source_id, file_id,
keyset_id, runvalue_set_id)``. "Runs with source X", "runs where motor M
was between a and b" and "keys of source X" start from the file sources of
the matching names; with every column they join on in the index, the
database reads a few contiguous index pages instead of one table page per
file source. On a synthetic catalogue of 100,000 runs and 10 million file
sources (``benchmarks/bench_query.py``, SQLite) the 95th-percentile latency
went from 1.8 s to 0.5 s for runs by source glob, and the median from 0.54 s
to 0.14 s for a motor range. The old index is a prefix of the new one.

SQLite catalogues also get their planner statistics here (``ANALYZE``,
bounded by ``PRAGMA analysis_limit``): without them SQLite plans a motor
range from the RUN value key index, tens of seconds at that size. Crawls
refresh them from now on (``extra_catalog.catalog.statistics``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

COLUMNS = ["source_id", "file_id", "keyset_id", "runvalue_set_id"]


def upgrade() -> None:
    op.create_index("ix_file_sources_source_id_file_id", "file_sources", COLUMNS)
    op.drop_index("ix_file_sources_source_id", table_name="file_sources")
    if op.get_bind().dialect.name == "sqlite":
        # As extra_catalog.catalog.statistics.refresh_statistics does.
        op.execute("PRAGMA analysis_limit = 1000")
        op.execute("ANALYZE")


def downgrade() -> None:
    op.create_index("ix_file_sources_source_id", "file_sources", ["source_id"])
    op.drop_index("ix_file_sources_source_id_file_id", table_name="file_sources")
