"""Run outlines: what opening a run needs, in one row per run.

Opening a catalogued 528-file run read six tables (files, file sources,
source names, legacy names, problems...) and assembled ~2,000 rows in
Python: ~30 ms, most of the time ``open_run`` took. ``run_outlines`` keeps
the same facts encoded in one blob per run (see
``extra_catalog.catalog.outline``), written in the transaction that writes
the run, so opening is one indexed SELECT. It is derived data: a run
without a row (written before this revision, or by older code) is opened
from the tables, and the next crawl adds its row.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "run_outlines",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE",
                                name="fk_run_outlines_run_id_runs"),
        sa.PrimaryKeyConstraint("run_id", name="pk_run_outlines"),
    )


def downgrade() -> None:
    op.drop_table("run_outlines")
