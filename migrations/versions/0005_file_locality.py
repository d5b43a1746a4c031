"""Storage locality and readability per file, in ``files`` and the ``files`` view.

``files.locality`` is dCache's answer about the file when the crawler last
read it (``ONLINE``, ``NEARLINE``, ``ONLINE_AND_NEARLINE``,
``UNAVAILABLE``..., ``NOT_ON_DCACHE`` for a file on GPFS, ``TIMEOUT`` when
the check did not finish in time); ``files.checked_at`` is when that was.
Whether the file could be read then is ``files.state``. Both are NULL for
files recorded before this revision, or by a reader rather than the
crawler: their locality is unknown until a crawl checks them again.

The ``v_files`` view (``files`` in ``Catalog.sql``) is rebuilt to show both.
Downgrade drops the view, the columns in place (a batch rebuild of ``files``
on SQLite would cascade-delete its sources and problems) and restores the
view of revision 0003.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def _revision_0003() -> ModuleType:
    """The 0003 migration module, whose view definitions are reused here."""
    path = Path(__file__).with_name("0003_query_views.py")
    spec = importlib.util.spec_from_file_location("_extra_catalog_migration_0003", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _old_files_view() -> str:
    body: str = _revision_0003()._views()["v_files"]
    return body


def _files_view() -> str:
    """The 0003 files view with the locality and when it was checked, after the state."""
    body = _old_files_view()
    anchor = "f.state AS state,"
    assert anchor in body, "the 0003 files view changed: update migration 0005"
    return body.replace(anchor, f"{anchor} f.locality AS locality, "
                                "f.checked_at AS checked_at,")


def upgrade() -> None:
    op.add_column("files", sa.Column("locality", sa.String(32), nullable=True))
    op.add_column("files", sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("DROP VIEW v_files")
    op.execute(f"CREATE VIEW v_files AS {_files_view()}")


def downgrade() -> None:
    op.execute("DROP VIEW v_files")
    # Not a batch rebuild: on SQLite, dropping the old files table would
    # cascade to every row below it. SQLite >= 3.35 drops columns in place.
    op.drop_column("files", "checked_at")
    op.drop_column("files", "locality")
    op.execute(f"CREATE VIEW v_files AS {_old_files_view()}")
