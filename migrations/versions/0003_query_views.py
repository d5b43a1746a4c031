"""Read-only query views: runs, sources, keys, files, run values and problems.

The views are the stable interface of ``Catalog.sql`` and ``xfel-index sql``
(documented in ``docs/query.rst``); the tables under them may change. They
are stored as ``v_runs``, ``v_sources``... because ``runs``, ``sources``,
``files``, ``run_values`` and ``problems`` are table names; ``Catalog.sql``
exposes them under the short names.

Train IDs are stored as ``value - 2**63`` (``extra_catalog.catalog.types``);
the views give the real value: exact on PostgreSQL (NUMERIC), exact on
SQLite below 2**63 (every real train ID), an approximate REAL above.

A later migration that rebuilds a table these views read (batch mode on
SQLite) must drop the views first and create them again afterwards.

Revision ID: 0003
Revises: 0002
Create Date: 2026-05-12
"""

from __future__ import annotations

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

VIEW_NAMES = ("v_runs", "v_files", "v_sources", "v_keys", "v_run_values", "v_problems")


def _uint64(column: str) -> str:
    """SQL giving the unsigned value of a UInt64 column on this backend."""
    if op.get_bind().dialect.name == "postgresql":
        return f"(CAST({column} AS NUMERIC) + 9223372036854775808)"
    # 2**63 is not an SQLite integer literal: add 2**63 - 1, then 1, so that
    # stored values below 0 (IDs below 2**63) stay exact integers.
    return f"({column} + 9223372036854775807 + 1)"


# The run's identity, repeated in every view so users never need a join.
_RUN_COLUMNS = """r.id AS run_id, p.number AS proposal, r.number AS run,
    r.data_category AS data_category"""
_RUN_JOIN = "JOIN runs r ON r.id = f.run_id JOIN proposals p ON p.id = r.proposal_id"


def _views() -> dict[str, str]:
    return {
        "v_runs": f"""
SELECT {_RUN_COLUMNS}, p.instrument AS instrument, p.cycle AS cycle,
    r.path AS path, {_uint64('r.first_train')} AS first_train,
    {_uint64('r.last_train')} AS last_train, r.n_trains AS n_trains,
    r.n_files AS n_files, r.format_version AS format_version,
    r.creation_date AS creation_date, r.update_date AS update_date,
    r.sample AS sample, r.run_type AS run_type,
    (SELECT COUNT(*) FROM problems pr WHERE pr.run_id = r.id) AS n_problems,
    r.indexed_at AS indexed_at
FROM runs r JOIN proposals p ON p.id = r.proposal_id""",
        "v_files": f"""
SELECT f.id AS file_id, {_RUN_COLUMNS}, f.name AS name,
    r.path || '/' || f.name AS path, f.aggregator AS aggregator,
    f.sequence AS sequence, f.size AS size, f.mtime AS mtime, f.state AS state,
    f.format_version AS format_version
FROM files f {_RUN_JOIN}""",
        "v_sources": f"""
SELECT {_RUN_COLUMNS}, s.name AS source, fs.section AS section,
    COUNT(DISTINCT f.id) AS n_files
FROM file_sources fs JOIN sources s ON s.id = fs.source_id
    JOIN files f ON f.id = fs.file_id {_RUN_JOIN}
GROUP BY r.id, p.number, r.number, r.data_category, s.name, fs.section""",
        "v_keys": f"""
SELECT DISTINCT {_RUN_COLUMNS}, s.name AS source, fs.section AS section,
    k.name AS key, k.dtype AS dtype, k.entry_shape AS entry_shape, k.unit AS unit
FROM file_sources fs JOIN sources s ON s.id = fs.source_id
    JOIN keyset_keys k ON k.keyset_id = fs.keyset_id
    JOIN files f ON f.id = fs.file_id {_RUN_JOIN}""",
        "v_run_values": f"""
SELECT DISTINCT {_RUN_COLUMNS}, s.name AS source, v.key AS key, v.kind AS kind,
    v.dtype AS dtype, v.shape AS shape, v.value_int AS value_int,
    v.value_float AS value_float, v.value_str AS value_str, v.summary AS summary
FROM file_sources fs JOIN sources s ON s.id = fs.source_id
    JOIN run_values v ON v.set_id = fs.runvalue_set_id
    JOIN files f ON f.id = fs.file_id {_RUN_JOIN}""",
        "v_problems": f"""
SELECT pb.id AS problem_id, {_RUN_COLUMNS}, f.name AS file,
    pb.check_name AS check_name, pb.message AS message, pb.source AS source,
    pb.dataset AS dataset, {_uint64('pb.train_id')} AS train_id
FROM problems pb JOIN runs r ON r.id = pb.run_id
    JOIN proposals p ON p.id = r.proposal_id
    LEFT JOIN files f ON f.id = pb.file_id""",
    }


def upgrade() -> None:
    for name, body in _views().items():
        op.execute(f"CREATE VIEW {name} AS {body}")


def downgrade() -> None:
    for name in reversed(VIEW_NAMES):
        op.execute(f"DROP VIEW IF EXISTS {name}")
