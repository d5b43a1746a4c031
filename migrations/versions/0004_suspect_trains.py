"""Suspect-train count per run, in the ``runs`` table and the ``runs`` view.

``runs.n_suspect_trains`` counts the distinct train IDs flagged suspect in
at least one file of the run and good in none of them: the trains that
``inc_suspect_trains=True`` adds to a run. Existing rows are filled here
by decoding the files' train-ID and validity blobs; files whose blobs
cannot be decoded (not written by ``extra_catalog.fileaccess.codec``)
add nothing, and the crawler sets the exact count when the run changes.

The ``v_runs`` view (``runs`` in ``Catalog.sql``) is rebuilt to show the
column. Downgrade drops the column in place (a batch rebuild of ``runs`` on
SQLite would cascade-delete its files); the views of revision 0003 are
dropped first, since SQLite refuses to drop a column a view reads, and
created again afterwards.

Revision ID: 0004
Revises: 0003
Create Date: 2026-05-20
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

log = logging.getLogger("alembic.runtime.migration")

#: Rows of ``files`` fetched at a time while filling the counts.
_BATCH = 2000


def _revision_0003() -> ModuleType:
    """The 0003 migration module, whose view definitions are reused here."""
    path = Path(__file__).with_name("0003_query_views.py")
    spec = importlib.util.spec_from_file_location("_extra_catalog_migration_0003", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _runs_view() -> str:
    """The 0003 runs view with the suspect-train count after the train count."""
    body: str = _revision_0003()._views()["v_runs"]
    anchor = "r.n_trains AS n_trains,"
    assert anchor in body, "the 0003 runs view changed: update migration 0004"
    return body.replace(anchor, f"{anchor} r.n_suspect_trains AS n_suspect_trains,")


def _suspect_counts(rows: Iterable[tuple[int, bytes, bytes]]) -> Iterator[tuple[int, int]]:
    """``(run_id, count)`` for each run with suspect trains; rows sorted by run."""
    import numpy as np

    from extra_catalog.fileaccess.codec import CodecError, decode_array

    current: int | None = None
    ids: list[np.ndarray] = []
    flags: list[np.ndarray] = []

    def count() -> int:
        if not ids:
            return 0
        all_ids, good = np.concatenate(ids), np.concatenate(flags)
        return int(np.setdiff1d(all_ids[~good], all_ids[good]).size)

    for run_id, train_ids, validity in rows:
        if run_id != current:
            if current is not None and (n := count()):
                yield current, n
            current, ids, flags = run_id, [], []
        try:
            tids, valid = decode_array(train_ids), decode_array(validity).astype(bool)
        except CodecError:
            log.warning("run id %s: a file's train IDs are not codec blobs; its suspect "
                        "trains are not counted until the run is crawled again", run_id)
            continue
        if tids.shape == valid.shape:
            ids.append(tids.astype(np.uint64))
            flags.append(valid)
    if current is not None and (n := count()):
        yield current, n


def _fill() -> None:
    bind = op.get_bind()
    files = sa.table("files", sa.column("run_id"), sa.column("train_ids"),
                     sa.column("validity"))
    runs = sa.table("runs", sa.column("id"), sa.column("n_suspect_trains"))
    query = (sa.select(files.c.run_id, files.c.train_ids, files.c.validity)
             .where(files.c.train_ids.is_not(None), files.c.validity.is_not(None))
             .order_by(files.c.run_id))
    rows = (tuple(row) for row in bind.execute(query.execution_options(yield_per=_BATCH)))
    counts = [{"run": run_id, "n": n} for run_id, n in _suspect_counts(rows)]
    if counts:
        bind.execute(runs.update().where(runs.c.id == sa.bindparam("run"))
                     .values(n_suspect_trains=sa.bindparam("n")), counts)


def upgrade() -> None:
    # NOT NULL with a default: ADD COLUMN works in place, even on SQLite.
    op.add_column("runs", sa.Column("n_suspect_trains", sa.Integer(), nullable=False,
                                    server_default=sa.text("0")))
    _fill()
    op.execute("DROP VIEW v_runs")
    op.execute(f"CREATE VIEW v_runs AS {_runs_view()}")


def downgrade() -> None:
    old = _revision_0003()
    for name in reversed(old.VIEW_NAMES):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    # Not a batch rebuild: on SQLite, dropping the old runs table would cascade
    # to every file row (foreign keys are on). SQLite >= 3.35 drops columns in place.
    op.drop_column("runs", "n_suspect_trains")
    old.upgrade()
