"""Core tables: proposals, runs, files, sources, keysets, index groups.

Revision ID: 0001
Revises:
Create Date: 2026-05-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("instrument", sa.String(16), nullable=False),
        sa.Column("cycle", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_proposals"),
        sa.UniqueConstraint("number", name="uq_proposals_number"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("data_category", sa.String(16), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        # Train IDs: uint64 stored as value - 2**63 (extra_catalog.catalog.types).
        sa.Column("first_train", sa.BigInteger(), nullable=True),
        sa.Column("last_train", sa.BigInteger(), nullable=True),
        sa.Column("n_trains", sa.Integer(), nullable=False),
        sa.Column("n_files", sa.Integer(), nullable=False),
        sa.Column("format_version", sa.String(8), nullable=True),
        sa.Column("creation_date", sa.String(32), nullable=True),
        sa.Column("update_date", sa.String(32), nullable=True),
        sa.Column("sample", sa.Text(), nullable=True),
        sa.Column("run_type", sa.Text(), nullable=True),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], ondelete="CASCADE",
                                name="fk_runs_proposal_id_proposals"),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.UniqueConstraint("path", name="uq_runs_path"),
        sa.UniqueConstraint("proposal_id", "number", "data_category",
                            name="uq_runs_proposal_id_number_data_category"),
    )
    op.create_index("ix_runs_first_train_last_train", "runs", ["first_train", "last_train"])
    op.create_table(
        "files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("aggregator", sa.String(32), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime", sa.Double(), nullable=False),
        sa.Column("inode", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("format_version", sa.String(8), nullable=True),
        sa.Column("train_ids", sa.LargeBinary(), nullable=True),
        sa.Column("validity", sa.LargeBinary(), nullable=True),
        sa.Column("timestamps", sa.LargeBinary(), nullable=True),
        sa.Column("metadata", sa.Text(), nullable=True),
        sa.CheckConstraint("state IN ('ok', 'unreadable', 'changed')", name="ck_files_state"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE",
                                name="fk_files_run_id_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_files"),
        sa.UniqueConstraint("run_id", "name", name="uq_files_run_id_name"),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sources"),
        sa.UniqueConstraint("name", name="uq_sources_name"),
    )
    op.create_table(
        "keysets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.Column("n_keys", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_keysets"),
        sa.UniqueConstraint("digest", name="uq_keysets_digest"),
    )
    op.create_table(
        "keyset_keys",
        sa.Column("keyset_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("dtype", sa.Text(), nullable=False),
        sa.Column("entry_shape", sa.Text(), nullable=False),
        sa.Column("chunks", sa.Text(), nullable=True),
        sa.Column("compression", sa.String(32), nullable=True),
        sa.Column("compression_opts", sa.Integer(), nullable=True),
        sa.Column("shuffle", sa.Boolean(), nullable=False),
        sa.Column("unit", sa.String(32), nullable=True),
        sa.Column("attrs", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["keyset_id"], ["keysets.id"], ondelete="CASCADE",
                                name="fk_keyset_keys_keyset_id_keysets"),
        sa.PrimaryKeyConstraint("keyset_id", "position", name="pk_keyset_keys"),
    )
    op.create_index("ix_keyset_keys_name", "keyset_keys", ["name"])
    op.create_table(
        "file_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(16), nullable=False),
        sa.Column("keyset_id", sa.Integer(), nullable=False),
        sa.Column("key_lengths", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["files.id"], ondelete="CASCADE",
                                name="fk_file_sources_file_id_files"),
        sa.ForeignKeyConstraint(["keyset_id"], ["keysets.id"],
                                name="fk_file_sources_keyset_id_keysets"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"],
                                name="fk_file_sources_source_id_sources"),
        sa.PrimaryKeyConstraint("id", name="pk_file_sources"),
        sa.UniqueConstraint("file_id", "position", name="uq_file_sources_file_id_position"),
    )
    op.create_index("ix_file_sources_source_id", "file_sources", ["source_id"])
    op.create_index("ix_file_sources_keyset_id", "file_sources", ["keyset_id"])
    op.create_table(
        "index_groups",
        sa.Column("file_source_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("first", sa.LargeBinary(), nullable=False),
        sa.Column("count", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["file_source_id"], ["file_sources.id"], ondelete="CASCADE",
                                name="fk_index_groups_file_source_id_file_sources"),
        sa.PrimaryKeyConstraint("file_source_id", "position", name="pk_index_groups"),
    )
    op.create_table(
        "legacy_names",
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("legacy_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["files.id"], ondelete="CASCADE",
                                name="fk_legacy_names_file_id_files"),
        sa.ForeignKeyConstraint(["legacy_id"], ["sources.id"],
                                name="fk_legacy_names_legacy_id_sources"),
        sa.ForeignKeyConstraint(["target_id"], ["sources.id"],
                                name="fk_legacy_names_target_id_sources"),
        sa.PrimaryKeyConstraint("file_id", "position", name="pk_legacy_names"),
    )


def downgrade() -> None:
    op.drop_table("legacy_names")
    op.drop_table("index_groups")
    op.drop_index("ix_file_sources_keyset_id", table_name="file_sources")
    op.drop_index("ix_file_sources_source_id", table_name="file_sources")
    op.drop_table("file_sources")
    op.drop_index("ix_keyset_keys_name", table_name="keyset_keys")
    op.drop_table("keyset_keys")
    op.drop_table("keysets")
    op.drop_table("sources")
    op.drop_table("files")
    op.drop_index("ix_runs_first_train_last_train", table_name="runs")
    op.drop_table("runs")
    op.drop_table("proposals")
