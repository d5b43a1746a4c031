"""Alembic environment of the extra_catalog catalogue.

Normally driven through :mod:`extra_catalog.catalog.schema` (``xfel-index
init`` / ``upgrade``), which passes an open connection in
``config.attributes['connection']``. Run by the ``alembic`` command instead,
the URL comes from the ``sqlalchemy.url`` option (or ``EXTRA_CATALOG_URL``).
Batch mode is on so that SQLite, which cannot ALTER most things, gets its
tables rebuilt.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from extra_catalog.catalog import models  # noqa: F401  (registers the tables)
from extra_catalog.catalog.base import Base
from extra_catalog.catalog.engine import create_catalog_engine, resolve_url

config = context.config
target_metadata = Base.metadata


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Write the SQL of the migrations instead of running it."""
    context.configure(
        url=resolve_url(config.get_main_option("sqlalchemy.url")),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the given connection, or connect to the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    engine = create_catalog_engine(resolve_url(config.get_main_option("sqlalchemy.url")))
    try:
        with engine.connect() as new_connection:
            _configure_and_run(new_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
