"""Opening runs from an SQLite catalogue with the standard library alone.

``open_run`` needs two answers from the catalogue: where a proposal is, and
a run's outline (one row of ``run_outlines``); reading a source then needs its
details (keys, INDEX, RUN values). All are plain SELECTs; going
through SQLAlchemy would cost its import (~0.3 s, more than opening a
500-file run) and its per-statement overhead. This module asks them with
:mod:`sqlite3` on a read-only connection, one per process and file.

Any trouble (no such table, an outline of another format, a locked or
damaged file) answers None; the caller then takes the SQLAlchemy path,
which reports real problems properly.
"""

from __future__ import annotations

import functools
import logging
import operator
import os
import sqlite3
import threading
import urllib.parse
from pathlib import Path
from collections.abc import Sequence
from typing import Any

from .outline import OUTLINE_FORMAT, OutlineError
from .outlineview import Outline, read_outline
from .sourcerows import RESULT_COLUMNS, FileSources, RecordCache, fetch_source_details

__all__ = ["QuickCatalog", "quick_catalog"]

log = logging.getLogger(__name__)

_OUTLINE = ("SELECT o.format, o.blob FROM runs r JOIN run_outlines o ON o.run_id = r.id "
            "WHERE r.path = ?")
_RUN_PATHS = ("SELECT r.path FROM runs r JOIN proposals p ON p.id = r.proposal_id "
              "WHERE p.number = ? ORDER BY r.path")


class QuickCatalog:
    """A read-only :mod:`sqlite3` connection to a catalogue file.

    Parameters
    ----------
    path : path
        The SQLite catalogue file (it must exist).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = self._connect()
        self.queries = 0  # statements run, for tests

    def _connect(self) -> sqlite3.Connection:
        self._pid = os.getpid()
        uri = f"file:{urllib.parse.quote(os.fspath(self.path))}?mode=ro"
        # Autocommit: statements read the newest commit; several statements
        # that must agree run in one explicit read transaction.
        return sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=5.0,
                               isolation_level=None)

    def _connection(self) -> sqlite3.Connection:
        """This process's connection: SQLite connections must not cross a fork."""
        if self._pid != os.getpid():
            self._conn = self._connect()  # the parent's stays the parent's
        return self._conn

    def _fetch(self, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]] | None:
        try:
            with self._lock:
                self.queries += 1
                return self._connection().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            log.debug("quick catalogue read of %s failed: %s", self.path, exc)
            return None

    def outline(self, run_dir: str | os.PathLike[str]) -> Outline | None:
        """The stored outline of a run, or None (not stored, or not usable)."""
        rows = self._fetch(_OUTLINE, (os.path.normpath(os.fspath(run_dir)),))
        if not rows or rows[0][0] != OUTLINE_FORMAT:
            return None
        try:
            return read_outline(bytes(rows[0][1]))  # type: ignore[arg-type]
        except OutlineError as exc:
            log.info("outline of %s not used: %s", run_dir, exc)
            return None

    def source_details(self, run_dir: str | os.PathLike[str], source: str | None = None,
                       files: Sequence[str] | None = None,
                       cache: RecordCache | None = None) -> dict[str, FileSources] | None:
        """As :func:`~extra_catalog.catalog.partial.load_source_details` (None on trouble).

        *files*: the names of the files holding *source*, if known; *cache*:
        records shared with earlier fetches (see
        :func:`~extra_catalog.catalog.sourcerows.fetch_source_details`).
        """
        def execute(sql: str, params: dict[str, Any]) -> list[Any]:
            cursor = conn.execute(sql, params)
            row = _row_type(tuple(d[0] for d in cursor.description))
            return list(map(row, cursor.fetchall()))

        try:
            with self._lock:
                self.queries += 1
                conn = self._connection()
                conn.execute("BEGIN")
                try:
                    return fetch_source_details(execute, run_dir, source, files,
                                                json_lists=True, cache=cache)
                finally:
                    conn.execute("ROLLBACK")
        except sqlite3.Error as exc:
            log.debug("quick catalogue details of %s failed: %s", run_dir, exc)
            return None

    def run_paths(self, proposal: int) -> list[str] | None:
        """Paths of the catalogued runs of a proposal number (None on trouble)."""
        rows = self._fetch(_RUN_PATHS, (int(proposal),))
        return None if rows is None else [str(r[0]) for r in rows]


@functools.lru_cache(maxsize=64)
def _row_type(columns: tuple[str, ...]) -> type:
    """A tuple type whose columns read as attributes (as SQLAlchemy's rows do).

    Lighter to make than a namedtuple (no generated code), as fast to read.
    """
    fields: dict[str, Any] = {"__slots__": ()}
    for i, name in enumerate(columns):
        fields[name] = property(operator.itemgetter(i))
    return type("Row", (tuple,), fields)


# The row types of the details statements, made with this module rather than
# on the first read of a source (making a class takes ~30 us).
for _columns in RESULT_COLUMNS:
    _row_type(_columns)

_open: dict[Path, tuple[tuple[int, int], QuickCatalog]] = {}
_open_lock = threading.Lock()


def quick_catalog(path: Path) -> QuickCatalog | None:
    """The shared :class:`QuickCatalog` of an SQLite file, None if there is no such file.

    A file replaced since it was opened (another inode) is opened again.
    """
    try:
        st = path.stat()
    except OSError:
        return None
    identity = (st.st_dev, st.st_ino)
    with _open_lock:
        found = _open.get(path)
        if found is not None and found[0] == identity:
            return found[1]
        try:
            quick = QuickCatalog(path)
        except sqlite3.Error as exc:
            log.debug("quick catalogue %s not opened: %s", path, exc)
            return None
        # A replaced file's connection is left open: runs opened from it still
        # fetch their details there (it closes when they are gone).
        _open[path] = (identity, quick)
        return quick
