"""RUN values (deduplicated sets), problems, and per-proposal crawl time.

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "runvalue_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runvalue_sets"),
        sa.UniqueConstraint("digest", name="uq_runvalue_sets_digest"),
    )
    op.create_table(
        "run_values",
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("dtype", sa.Text(), nullable=False),
        sa.Column("shape", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("value_int", sa.BigInteger(), nullable=True),
        sa.Column("value_float", sa.Double(), nullable=True),
        sa.Column("value_str", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["set_id"], ["runvalue_sets.id"], ondelete="CASCADE",
                                name="fk_run_values_set_id_runvalue_sets"),
        sa.PrimaryKeyConstraint("set_id", "position", name="pk_run_values"),
    )
    op.create_index("ix_run_values_key_value_float", "run_values", ["key", "value_float"])
    with op.batch_alter_table("file_sources") as batch:
        batch.add_column(sa.Column("runvalue_set_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_file_sources_runvalue_set_id_runvalue_sets",
                                 "runvalue_sets", ["runvalue_set_id"], ["id"])
        batch.create_index("ix_file_sources_runvalue_set_id", ["runvalue_set_id"])
    with op.batch_alter_table("proposals") as batch:
        batch.add_column(sa.Column("last_crawled", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("check_name", sa.String(64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("dataset", sa.Text(), nullable=True),
        # uint64 stored as value - 2**63 (extra_catalog.catalog.types).
        sa.Column("train_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["file_id"], ["files.id"], ondelete="CASCADE",
                                name="fk_problems_file_id_files"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE",
                                name="fk_problems_run_id_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_problems"),
    )
    op.create_index("ix_problems_run_id", "problems", ["run_id"])
    op.create_index("ix_problems_file_id", "problems", ["file_id"])


def downgrade() -> None:
    op.drop_index("ix_problems_file_id", table_name="problems")
    op.drop_index("ix_problems_run_id", table_name="problems")
    op.drop_table("problems")
    with op.batch_alter_table("proposals") as batch:
        batch.drop_column("last_crawled")
    with op.batch_alter_table("file_sources") as batch:
        batch.drop_index("ix_file_sources_runvalue_set_id")
        batch.drop_constraint("fk_file_sources_runvalue_set_id_runvalue_sets",
                              type_="foreignkey")
        batch.drop_column("runvalue_set_id")
    op.drop_index("ix_run_values_key_value_float", table_name="run_values")
    op.drop_table("run_values")
    op.drop_table("runvalue_sets")
