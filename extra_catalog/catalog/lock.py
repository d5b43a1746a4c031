"""One crawler at a time per catalogue.

Two crawlers writing the same runs would do the same work twice and race
on each run's transaction. A crawl therefore holds a writer lock for its
whole length: on SQLite an ``flock`` on a file beside the database, on
PostgreSQL a session-level advisory lock. Both are released by the
operating system or the server when the holder dies, even by SIGKILL, so a
killed crawler never leaves the catalogue locked. Readers never take it.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from ..exceptions import CatalogError
from .engine import Catalog, display_url, sqlite_file

__all__ = ["CatalogBusyError", "writer_lock"]

#: Advisory lock key on PostgreSQL (any constant; "xfelidx" in ASCII).
_PG_LOCK_KEY = 0x7866656C696478
_POLL = 0.2


class CatalogBusyError(CatalogError):
    """Another crawler is writing to the catalogue."""


def _busy(catalog: Catalog, holder: str) -> CatalogBusyError:
    return CatalogBusyError(
        f"another crawler{holder} is writing to catalogue {display_url(catalog.url)}; "
        "wait for it to finish, or let this one wait with --wait SECONDS")


@contextmanager
def _file_lock(catalog: Catalog, db_file: Path, wait: float) -> Iterator[None]:
    lock_path = db_file.with_name(db_file.name + ".crawl-lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o664)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    pid = os.pread(fd, 32, 0).decode(errors="replace").strip()
                    raise _busy(catalog, f" (process {pid})" if pid else "") from None
                time.sleep(_POLL)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextmanager
def _advisory_lock(catalog: Catalog, wait: float) -> Iterator[None]:
    with catalog.translate_errors(), catalog.engine.connect() as conn:
        deadline = time.monotonic() + wait
        while not conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                               {"k": _PG_LOCK_KEY}).scalar():
            conn.rollback()
            if time.monotonic() >= deadline:
                raise _busy(catalog, "")
            time.sleep(_POLL)
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
            conn.commit()


@contextmanager
def writer_lock(catalog: Catalog, *, wait: float = 0.0) -> Iterator[None]:
    """Hold the catalogue's writer lock for the ``with`` block.

    Parameters
    ----------
    catalog : Catalog
    wait : float
        Seconds to wait for another writer to finish (0: fail at once).

    Raises
    ------
    CatalogBusyError
        Another crawler holds the lock and did not release it in time.
    """
    db_file = sqlite_file(catalog.url)
    if db_file is not None:
        with _file_lock(catalog, db_file, wait):
            yield
    elif catalog.engine.dialect.name == "postgresql":
        with _advisory_lock(catalog, wait):
            yield
    else:
        yield  # in-memory SQLite: only this process can see it
