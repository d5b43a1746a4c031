"""Migration 0004: the suspect-train count of runs catalogued before it existed."""

from __future__ import annotations

import struct

import numpy as np
from alembic import command
from sqlalchemy import inspect, text

from extra_catalog.catalog import (head_revision, init_catalog, list_runs, open_catalog,
                                   upgrade_catalog)
from extra_catalog.catalog.engine import create_catalog_engine
from extra_catalog.catalog.schema import alembic_config
from extra_catalog.fileaccess.codec import encode_array

OFFSET = 2**63
BASE = "/exp/SPB/202601/p900001/raw"


def _ids(*values: int) -> bytes:
    return encode_array(np.array(values, dtype=np.uint64))


def _flags(*values: int) -> bytes:
    return encode_array(np.array(values, dtype=np.int32))


#: run number -> files as (train IDs blob, validity blob), and the expected count.
RUNS: dict[int, tuple[list[tuple[bytes | None, bytes | None]], int]] = {
    # 11 suspect in both files, 12 suspect in one and good in the other.
    1: ([(_ids(10, 11, 12), _flags(1, 0, 0)), (_ids(10, 11, 12), _flags(1, 0, 1))], 1),
    # Suspect trains in different sequence files all count.
    2: ([(_ids(20, 21), _flags(0, 1)), (_ids(22, 23), _flags(0, 0))], 3),
    3: ([(_ids(30, 31), _flags(1, 1))], 0),
    # An unreadable file (no blobs) and blobs not made by the codec add nothing.
    4: ([(None, None), (struct.pack("<2Q", 40, 41), b"\x00\x00")], 0),
    5: ([], 0),
}


def _execute(url: str, statement: str, rows: list[dict[str, object]]) -> None:
    engine = create_catalog_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement), rows)
    finally:
        engine.dispose()


def _fill_revision_0003(url: str) -> None:
    _execute(url, "INSERT INTO proposals (number, instrument, cycle) "
             "VALUES (900001, 'SPB', '202601')", [{}])
    _execute(url, "INSERT INTO runs (proposal_id, number, data_category, path, n_trains,"
             " n_files, indexed_at) VALUES ((SELECT id FROM proposals), :run, 'raw', :path,"
             " 0, :n, '2026-01-01 00:00:00')",
             [{"run": run, "path": f"{BASE}/r{run:04d}", "n": len(files)}
              for run, (files, _) in RUNS.items()])
    _execute(url, "INSERT INTO files (run_id, name, size, mtime, inode, state, train_ids,"
             " validity) VALUES ((SELECT id FROM runs WHERE number = :run), :name, 1, 1.0,"
             f" {-OFFSET}, :state, :tids, :flags)",
             [{"run": run, "name": f"RAW-R{run:04d}-DA01-S{i:05d}.h5", "tids": tids,
               "flags": flags, "state": "ok" if tids is not None else "unreadable"}
              for run, (files, _) in RUNS.items() for i, (tids, flags) in enumerate(files)])


def _stored_counts(url: str) -> dict[int, int]:
    with open_catalog(url) as catalog:
        return {s.info.run: s.info.n_suspect_trains for s in list_runs(catalog)}


def test_upgrade_from_0003_fills_the_count(empty_catalog_url: str) -> None:
    url = empty_catalog_url
    init_catalog(url, revision="0003")
    _fill_revision_0003(url)
    assert upgrade_catalog(url) == ("0003", head_revision())
    assert _stored_counts(url) == {run: n for run, (_, n) in RUNS.items()}
    engine = create_catalog_engine(url)
    try:
        with engine.connect() as connection:
            view = connection.execute(text(
                "SELECT run, n_suspect_trains FROM v_runs ORDER BY run")).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in view] == [(run, n) for run, (_, n) in sorted(RUNS.items())]


def test_downgrade_drops_the_column_and_keeps_the_views(empty_catalog_url: str) -> None:
    url = empty_catalog_url
    init_catalog(url, revision="0003")
    _fill_revision_0003(url)
    upgrade_catalog(url)
    engine = create_catalog_engine(url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(url, connection), "0003")
        with engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("runs")}
            view = connection.execute(text("SELECT run, n_files FROM v_runs ORDER BY run"))
            assert [tuple(r) for r in view] == [(run, len(f)) for run, (f, _) in
                                               sorted(RUNS.items())]
            n_files = connection.execute(text("SELECT COUNT(*) FROM v_files")).scalar_one()
    finally:
        engine.dispose()
    assert "n_suspect_trains" not in columns
    assert n_files == sum(len(f) for f, _ in RUNS.values())
    # And up again: the count is filled a second time.
    upgrade_catalog(url)
    assert _stored_counts(url) == {run: n for run, (_, n) in RUNS.items()}
