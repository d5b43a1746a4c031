"""Further facts of each problem (``index_shape``, ``error``...), in ``problems.details``.

The validator reports some problems with extra fields, as EXtra-data's does
(``Index has wrong number of entries`` with ``index_shape`` and
``trainids_shape``); the crawler stores them as a JSON list of
``[name, value]`` pairs, so a report answered from the catalogue is the
validator's. NULL for problems without details and for rows written
before this revision.

Downgrade drops the column in place (a batch rebuild of ``problems`` is not
needed: no view reads the column).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("problems", sa.Column("details", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("problems", "details")
