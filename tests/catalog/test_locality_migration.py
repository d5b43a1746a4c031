"""Migration 0005: per-file locality and check time, for catalogues made before it."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from extra_catalog.catalog import head_revision, init_catalog, upgrade_catalog
from extra_catalog.catalog.engine import create_catalog_engine
from extra_catalog.catalog.schema import alembic_config

RUN = "/exp/SPB/202601/p900001/raw/r0001"
NAMES = ["RAW-R0001-DA01-S00000.h5", "RAW-R0001-DA02-S00000.h5"]


def _fill_revision_0004(url: str) -> None:
    engine = create_catalog_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO proposals (number, instrument, cycle) "
                                    "VALUES (900001, 'SPB', '202601')"))
            connection.execute(text(
                "INSERT INTO runs (proposal_id, number, data_category, path, n_trains, n_files,"
                " indexed_at) VALUES ((SELECT id FROM proposals), 1, 'raw', :path, 0, 2,"
                " '2026-01-01 00:00:00')"), {"path": RUN})
            connection.execute(text(
                "INSERT INTO files (run_id, name, size, mtime, inode, state) VALUES "
                "((SELECT id FROM runs), :name, 1, 1.0, 0, 'ok')"), [{"name": n} for n in NAMES])
    finally:
        engine.dispose()


def _query(url: str, statement: str) -> list[tuple]:
    engine = create_catalog_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(text(statement))]
    finally:
        engine.dispose()


def test_upgrade_leaves_old_files_unchecked(empty_catalog_url: str) -> None:
    url = empty_catalog_url
    init_catalog(url, revision="0004")
    _fill_revision_0004(url)
    assert upgrade_catalog(url) == ("0004", head_revision())
    assert _query(url, "SELECT name, state, locality, checked_at FROM v_files ORDER BY name") \
        == [(n, "ok", None, None) for n in NAMES]


def test_downgrade_drops_the_columns_and_keeps_the_files(empty_catalog_url: str) -> None:
    url = empty_catalog_url
    init_catalog(url, revision="0004")
    _fill_revision_0004(url)
    upgrade_catalog(url)
    engine = create_catalog_engine(url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(url, connection), "0004")
        with engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("files")}
            view = {c["name"] for c in inspect(connection).get_columns("v_files")}
    finally:
        engine.dispose()
    assert not {"locality", "checked_at"} & (columns | view)
    assert _query(url, "SELECT name FROM v_files ORDER BY name") == [(n,) for n in NAMES]
