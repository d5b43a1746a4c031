"""Proposal aliases: each proposal's alias file, recorded by the crawler for queries.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "proposal_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], ondelete="CASCADE",
                                name="fk_proposal_aliases_proposal_id_proposals"),
        sa.PrimaryKeyConstraint("id", name="pk_proposal_aliases"),
        sa.UniqueConstraint("proposal_id", "alias", name="uq_proposal_aliases_proposal_id_alias"),
    )
    op.create_index("ix_proposal_aliases_alias", "proposal_aliases", ["alias"])


def downgrade() -> None:
    op.drop_index("ix_proposal_aliases_alias", table_name="proposal_aliases")
    op.drop_table("proposal_aliases")
