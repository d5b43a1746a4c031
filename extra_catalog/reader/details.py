"""Source details of catalogued runs, fetched from the catalogue when first used.

Opening a run takes an outline from the catalogue: files, train IDs and
source names. The keys, INDEX arrays and RUN values of a source come later,
through :class:`CatalogDetails`, in one round trip for that source in every
file of the run; reading one key of a 500-file run never loads the ~10,000
RUN values and ~4,000 INDEX arrays of all the others.

Catalogues are opened once per process and URL (:func:`shared_catalog`):
the schema revision is checked on the first use only, and the runs opened
from one catalogue share its connection pool.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from ..fileaccess import FileAccess
from ..records import FileRecord, SourceRecord

__all__ = ["CatalogDetails", "shared_catalog"]

#: The files of a run by name: their stat, or their records.
Stats = Mapping[str, tuple[int, float, int] | FileRecord]

log = logging.getLogger(__name__)

_MAX_OPEN = 8  # catalogues kept open per process (most use one)
_open_catalogs: OrderedDict[str, tuple[tuple[int, int] | None, Any]] = OrderedDict()
_open_lock = threading.Lock()


def shared_catalog(url: str | os.PathLike[str] | None) -> Any | None:
    """The open :class:`~extra_catalog.catalog.Catalog` for *url*, opened on first use.

    None when *url* is an SQLite file that does not exist. An SQLite file
    replaced since it was opened (another inode) is opened again. Errors
    from opening (bad URL, not a catalogue, old revision) propagate.
    """
    from ..catalog import open_catalog
    from ..catalog.engine import resolve_url, sqlite_file

    resolved = resolve_url(url)
    path = sqlite_file(resolved)
    identity = None
    if path is not None:
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        identity = (st.st_dev, st.st_ino)
    with _open_lock:
        found = _open_catalogs.get(resolved)
        if found is not None and found[0] == identity:
            _open_catalogs.move_to_end(resolved)
            return found[1]
        catalog = open_catalog(resolved)
        _open_catalogs[resolved] = (identity, catalog)
        # Dropped catalogues are not closed: runs may still use them, and
        # their engines close their connections when collected.
        while len(_open_catalogs) > _MAX_OPEN:
            _open_catalogs.popitem(last=False)
        return catalog


class CatalogDetails:
    """Complete source records of one catalogued run, loaded per source on first use.

    Given to :meth:`FileAccess.from_record` with the run's outline records.
    A record is used only if the catalogue still describes the same file
    (size, mtime, inode); otherwise, or if the catalogue cannot be reached,
    the FileAccess reads the source from the file itself.

    Parameters
    ----------
    catalog : Catalog or callable
        An open catalogue, or a function giving it (called on the first
        fetch: opening a run does not open the SQLAlchemy catalogue). Its
        ``quick`` attribute, if any, is a
        :class:`~extra_catalog.catalog.quickread.QuickCatalog` asked first.
    run_dir : path
        The run directory, as catalogued.
    stats : mapping of str to (size, mtime, inode) or to FileRecord, or a callable
        The files as they were when the run was opened (records: their
        stat is taken when first needed), or a function giving them (called
        on the first fetch).
    holders : callable, optional
        Gives the names of the files holding a source (from the run's
        outline): the catalogue then searches those files only.
    """

    #: After this many single sources, the rest of the run is loaded in one go
    #: (something is walking every source: one big query beats hundreds).
    BULK_AFTER = 16

    def __init__(self, catalog: Any, run_dir: str | os.PathLike[str],
                 stats: Stats | Callable[[], Stats],
                 holders: Callable[[str], Sequence[str]] | None = None) -> None:
        self.catalog = catalog
        self.run_dir = str(Path(run_dir))
        self._stats = stats
        self._holders = holders
        self._by_source: dict[str, dict[str, SourceRecord]] = {}
        self._everything = False
        self._lock = threading.Lock()
        self.queries = 0  # round trips made, for tests and curious users

    @cached_property
    def stats(self) -> dict[str, tuple[int, float, int]]:
        """``{file name: (size, mtime, inode)}`` as the run was opened."""
        given = self._stats() if callable(self._stats) else self._stats
        return {name: v if isinstance(v, tuple) else (v.size, v.mtime, v.inode)
                for name, v in given.items()}

    def __call__(self, fa: FileAccess, source: str) -> SourceRecord | None:
        name = os.path.basename(fa.filename)
        with self._lock:
            found = self._by_source.get(source)
            if found is None and not self._everything:
                found = self._fetch(source)
        return None if found is None else found.get(name)

    def _fetch(self, source: str) -> dict[str, SourceRecord]:
        bulk = len(self._by_source) >= self.BULK_AFTER
        self.queries += 1
        wanted = None if bulk else source
        # An SQLite catalogue answers through sqlite3, without importing SQLAlchemy.
        quick = getattr(self.catalog, "quick", None)
        files = None if wanted is None or self._holders is None else self._holders(wanted)
        loaded = None if quick is None else quick.source_details(self.run_dir, wanted, files)
        if loaded is None:
            try:
                from ..catalog.partial import load_source_details

                catalog = self.catalog() if callable(self.catalog) else self.catalog
                loaded = load_source_details(catalog, self.run_dir, wanted)
            except Exception as exc:  # noqa: BLE001 - the files are still there to read
                log.info("catalogue details of %s in %s not loaded (%s): reading the files",
                         source, self.run_dir, exc)
                loaded = {}
        got: dict[str, dict[str, SourceRecord]] = {source: {}}
        for fname, found in loaded.items():
            if found.stat != self.stats.get(fname):
                continue  # crawled again since the run was opened: not our file
            for sname, rec in found.sources.items():
                got.setdefault(sname, {})[fname] = rec
        if bulk:
            self._everything = True
        self._by_source.update(got)
        return got[source]
