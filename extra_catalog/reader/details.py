"""Source details of catalogued runs, fetched from the catalogue when first used.

Opening a run takes an outline from the catalogue: files, train IDs and
source names. The keys, INDEX arrays and RUN values of a source come later,
through :class:`CatalogDetails`: for an instrument source, for the file
asking, one file at a time for the first few, then in one round trip for
every file holding it (a control source: all at once);
reading one key of a 500-file run never loads the ~10,000 RUN values and
~4,000 INDEX arrays of all the others.

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

from ..catalog.sourcerows import RecordCache
from ..fileaccess import FileAccess
from ..records import FileRecord, SourceRecord
from .gcpause import gc_paused

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
        stat is taken when first needed), or a function giving them as
        ``(size, mtime, inode)`` (called on the first fetch).
    holders : callable, optional
        Gives the names of the files holding a source (from the run's
        outline): the catalogue then searches those files only.
    one_file_first : callable, optional
        Whether a source's details are fetched for the file asking, one
        file at a time at first (true for instrument sources: detector data
        is mostly read a few trains at a time), rather than for every file
        holding it at once (control sources, mostly read whole). Needs
        *holders*; default: every source at once.
    """

    #: After this many single sources, the rest of the run is loaded in one go
    #: (something is walking every source: one big query beats hundreds).
    BULK_AFTER = 16
    #: An instrument source's details are fetched for the file asking, one
    #: file at a time, for this many files; then for every file holding it,
    #: in one query. Reading a few trains asks one or two files (the key
    #: check, the file read); using a whole source asks them all.
    SINGLE_FILES = 2

    def __init__(self, catalog: Any, run_dir: str | os.PathLike[str],
                 stats: Stats | Callable[[], Mapping[str, tuple[int, float, int]]],
                 holders: Callable[[str], Sequence[str]] | None = None,
                 one_file_first: Callable[[str], bool] | None = None) -> None:
        self.catalog = catalog
        self.run_dir = str(Path(run_dir))
        self._stats = stats
        self._holders = holders
        self._one_file_first = one_file_first
        self._by_source: dict[str, dict[str, SourceRecord]] = {}
        self._asked: dict[str, set[str]] = {}  # files fetched one by one, per source
        self._complete: set[str] = set()  # sources fetched for every file
        self._everything = False
        self._cache = RecordCache()  # equal keys and INDEX blobs: one object for the run
        self._lock = threading.Lock()
        self.queries = 0  # round trips made, for tests and curious users

    @cached_property
    def stats(self) -> Mapping[str, tuple[int, float, int]]:
        """``{file name: (size, mtime, inode)}`` as the run was opened."""
        if callable(self._stats):
            return self._stats()  # (gives tuples)
        return {name: v if isinstance(v, tuple) else (v.size, v.mtime, v.inode)
                for name, v in self._stats.items()}

    def __call__(self, fa: FileAccess, source: str) -> SourceRecord | None:
        name = os.path.basename(fa.filename)
        with self._lock:
            found = self._by_source.get(source, {})
            if name not in found and not (self._everything or source in self._complete
                                          or name in self._asked.get(source, ())):
                self._fetch(source, [name])
                found = self._by_source.get(source, {})
        return found.get(name)

    def prefetch(self, source: str, files: Sequence[FileAccess]) -> None:
        """Fetch *source* at once for those of *files* that do not have it yet.

        Called by the reader before it uses a source in several files (to
        read or count the data of many trains): one round trip, instead of
        one per file for the first :attr:`SINGLE_FILES` of them.
        """
        names = [os.path.basename(fa.filename) for fa in files]
        with self._lock:
            if self._everything or source in self._complete:
                return
            have, asked = self._by_source.get(source, {}), self._asked.get(source, set())
            missing = [n for n in names if n not in have and n not in asked]
            if len(missing) > 1:
                self._fetch(source, missing)

    def _scope(self, source: str, names: list[str]) -> tuple[str | None, list[str] | None]:
        """What to fetch for *source* asked by the files *names*: (source, file names).

        ``(None, None)``: every source of the run; ``(source, None)``: every
        file holding it.
        """
        started = self._by_source.keys() | self._asked.keys()
        if source not in started and len(started) >= self.BULK_AFTER:
            # A new source after many others (not the rest of one begun).
            self._everything = True
            return None, None
        asked = self._asked.setdefault(source, set())
        one_by_one = self._holders is not None and getattr(self.catalog, "quick", None)
        singly = (len(names) == 1 and len(asked) < self.SINGLE_FILES
                  and self._one_file_first is not None and self._one_file_first(source))
        if one_by_one and (singly or 1 < len(names) <= len(self._holders(source)) // 2):
            asked.update(names)
            return source, names
        self._complete.add(source)
        if one_by_one:  # every file holding it that was not fetched yet
            have = self._by_source.get(source, {})
            return source, [n for n in self._holders(source) if n not in have and n not in asked]
        return source, None

    def _fetch(self, source: str, names: list[str]) -> None:
        wanted, files = self._scope(source, names)
        if files is not None and not files:
            return  # every file holding it is fetched already
        self.queries += 1
        with gc_paused():  # (thousands of records, all kept)
            self._load(source, wanted, files)

    def _load(self, source: str, wanted: str | None, files: list[str] | None) -> None:
        # An SQLite catalogue answers through sqlite3, without importing SQLAlchemy.
        quick = getattr(self.catalog, "quick", None)
        loaded = None if quick is None else quick.source_details(self.run_dir, wanted, files,
                                                                  self._cache)
        if loaded is None:
            if wanted is not None:
                self._complete.add(wanted)  # every file, or no more asking
            try:
                from ..catalog.partial import load_source_details

                catalog = self.catalog() if callable(self.catalog) else self.catalog
                loaded = load_source_details(catalog, self.run_dir, wanted, self._cache)
            except Exception as exc:  # noqa: BLE001 - the files are still there to read
                log.info("catalogue details of %s in %s not loaded (%s): reading the files",
                         source, self.run_dir, exc)
                loaded = {}
        for fname, found in loaded.items():
            if found.stat != self.stats.get(fname):
                continue  # crawled again since the run was opened: not our file
            for sname, rec in found.sources.items():
                self._by_source.setdefault(sname, {})[fname] = rec
