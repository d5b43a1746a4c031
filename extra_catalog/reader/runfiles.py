"""The files of a run: from the catalogue when it is fresh, from disk when not.

This replaces EXtra-data's per-run JSON "run files map". Opening a run lists
its directory and stats its files once; every file whose (size, mtime,
inode) matches the catalogue becomes a :class:`FileAccess` built from its
record, without opening the HDF5 file: from the run's outline (trains and
source names), the details of each source being fetched when first used
(:mod:`.details`). New or changed files are read from
disk, so stale metadata is never served. A missing, unreadable, out-of-date
or busy catalogue never stops anyone from opening data: the files are read
directly instead.

When a file had to be read from disk, the new records are written back to the
catalogue, if it is writable and recording is on (the default; set
``EXTRA_CATALOG_RECORD=0`` to turn it off). Only whole-run knowledge is
written: a run the catalogue did not know is recorded only when every file of
it was read, so opening a subset (``include=``, ``file_filter=``) never
changes what the catalogue says about the whole run.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import ExtraCatalogError
from ..fileaccess import FileAccess
from ..fileaccess.file_access import read_record
from ..catalog.location import plain_sqlite_path
from ..catalog.outlineview import Outline
from ..catalog.quickread import QuickCatalog, quick_catalog
from ..catalog.records import RunRecord, RunTrains
from ..index.scan import FileStat, list_run_files
from ..records import FileRecord
from .filefilter import apply_file_filter
from .catalogued import CataloguedRun
from .details import CatalogDetails, shared_catalog

__all__ = ["RunFiles", "open_run_files", "DEFAULT_CATALOG"]

log = logging.getLogger(__name__)

#: Use ``$EXTRA_CATALOG_URL`` or the per-user catalogue, if it exists.
DEFAULT_CATALOG = "default"
ENV_RECORD = "EXTRA_CATALOG_RECORD"

FileFilter = Callable[[list[str]], Sequence[str]]


@dataclass
class RunFiles:
    """The files of an opened run and where their metadata came from.

    Attributes
    ----------
    files : list of FileAccess
        The selected files, in name order (for a :attr:`catalogued` run,
        made when this is first read).
    from_catalog, from_disk : list of str
        Names of files built from catalogue records / read from disk.
    recorded : bool
        Whether the catalogue was updated with what was read from disk.
    trains : RunTrains or None
        The catalogue's train facts over all the files, when the files are
        exactly the catalogued run's (whole run, all fresh).
    catalogued : CataloguedRun or None
        The whole run as catalogued, when its directory is unchanged: its
        files are made when first used.
    """

    _files: list[FileAccess] | None = None
    from_catalog: list[str] = field(default_factory=list)
    from_disk: list[str] = field(default_factory=list)
    recorded: bool = False
    trains: RunTrains | None = None
    catalogued: CataloguedRun | None = None

    @property
    def files(self) -> list[FileAccess]:
        if self._files is None:
            self._files = [] if self.catalogued is None else self.catalogued.all_files()
        return self._files

    @files.setter
    def files(self, value: list[FileAccess]) -> None:
        self._files = value


def _select(listing: list[FileStat], run_dir: Path, include: str,
            file_filter: FileFilter | None, view: _CatalogView) -> list[FileStat]:
    chosen = [f for f in listing if f.error is None
              and (include == "*" or fnmatch.fnmatch(f.name, include))]
    if file_filter is not None:
        # Locality filters are answered from the catalogue where it can.
        kept = apply_file_filter(file_filter, run_dir, chosen, view.catalog)
        chosen = [f for f in chosen if f.name in kept]
    return chosen


def _recording_on() -> bool:
    return os.environ.get(ENV_RECORD, "1").strip().lower() not in ("0", "no", "false", "off")


def open_run_files(run_dir: str | os.PathLike, include: str = "*",
                   file_filter: FileFilter | None = None, *,
                   catalog: object = DEFAULT_CATALOG, record: bool | None = None,
                   timeout: float | None = None) -> RunFiles:
    """Open the ``*.h5`` files of a run directory, using the catalogue where it is fresh.

    Parameters
    ----------
    run_dir : path
        The run directory.
    include : str
        Glob on file names, as EXtra-data's ``RunDirectory(include=...)``.
    file_filter : callable, optional
        Takes the list of selected file paths and returns those to keep
        (e.g. :func:`extra_catalog.locality.lc_ondisk`, which is answered
        from the locality the catalogue recorded, without asking dCache).
    catalog : Catalog, URL, None or ``'default'``
        The catalogue to use; ``None`` reads every file from disk.
    record : bool, optional
        Write what was read from disk back to the catalogue (default: on,
        unless ``EXTRA_CATALOG_RECORD=0``).
    timeout : float, optional
        Read the files the catalogue cannot answer for in worker processes,
        each within this many seconds; a file that takes longer (on tape, a
        hanging file system) is skipped with a note. Default: read them in
        this process, without a limit.

    Raises
    ------
    FileNotFoundError
        The directory does not exist, or no file is selected.
    """
    run_dir = Path(os.path.abspath(run_dir))
    if not run_dir.is_dir():
        raise FileNotFoundError(f"{run_dir}: no such run directory")
    listing = list_run_files(run_dir)
    with _CatalogView(catalog, run_dir) as view:
        if include == "*" and file_filter is None and view.unchanged(listing):
            return _whole_run(view)
        chosen = _select(listing, run_dir, include, file_filter, view)
        if not chosen:
            raise FileNotFoundError(f"No HDF5 files found in {run_dir} with glob pattern "
                                    f"{include!r}")
        out = RunFiles(_files=[])
        fresh_reads: dict[str, FileRecord] = {}
        opened: dict[str, FileAccess] = {}
        to_read = []
        fresh_records = []
        for f in chosen:
            rec = view.records.get(f.name)
            if rec is not None and (rec.size, rec.mtime, rec.inode) == f.key():
                fresh_records.append(rec)
                out.from_catalog.append(f.name)
            else:
                to_read.append(f.name)
        opened.update(zip(out.from_catalog,
                          FileAccess.from_records(fresh_records, view.details)))
        keep = view.writable and _wants(record)
        for name, result in _read_files(run_dir, to_read, keep, timeout):
            if isinstance(result, str):
                # As EXtra-data does: an unusable file is skipped, with a note.
                print(f"Skipping file {run_dir / name}\n  (error was: {result})", file=sys.stderr)
                continue
            opened[name], fresh = result
            out.from_disk.append(name)
            if fresh is not None:
                fresh_reads[name] = fresh
        out.files = [opened[f.name] for f in chosen if f.name in opened]
        if not out.files:
            raise ExtraCatalogError(f"All HDF5 files specified are unusable ({run_dir})")
        whole_run = len(chosen) == sum(1 for f in listing if f.error is None)
        if view.run is not None and len(out.from_catalog) == len(view.records) == len(out.files):
            out.trains = view.run.trains
        if fresh_reads or view.removed(listing):
            out.recorded = view.write_back(fresh_reads, listing, whole_run)
    return out


def _whole_run(view: _CatalogView) -> RunFiles:
    """Every file of a run whose directory is as catalogued, from the outline."""
    if view.outline is not None:  # nothing per file is made yet
        return RunFiles(from_catalog=list(view.outline.names), trains=view.outline.trains,
                        catalogued=CataloguedRun(view.outline, view.details))
    assert view.run is not None
    return RunFiles(_files=FileAccess.from_records(list(view.run.files), view.details),
                    from_catalog=list(view.records), trains=view.run.trains)


def _wants(record: bool | None) -> bool:
    return _recording_on() if record is None else record


_Read = tuple[FileAccess, "FileRecord | None"]


def _read_files(run_dir: Path, names: list[str], keep_record: bool,
                timeout: float | None) -> Iterator[tuple[str, _Read | str]]:
    """Read files from disk: ``(name, (FileAccess, record or None))``, or an error text."""
    if timeout is None:
        for name in names:
            try:
                yield name, _from_disk(run_dir / name, keep_record)
            except ExtraCatalogError as exc:
                yield name, str(exc)
        return
    from ..index.pool import DeadlinePool

    # Whole records, so nothing about these files is read in this process later.
    with DeadlinePool(read_record, processes=min(4, len(names) or 1), timeout=timeout) as pool:
        for result in pool.map_unordered([str(run_dir / n) for n in names]):
            name = os.path.basename(result.item)
            if result.timed_out:
                yield name, (f"reading it took more than {timeout:g} s (on tape, or a "
                             "hanging file system?)")
            elif result.error is not None:
                yield name, str(result.error)
            else:
                yield name, (FileAccess.from_record(result.value),
                             result.value if keep_record else None)


def _from_disk(path: Path, keep_record: bool) -> _Read:
    """Read one file; with *keep_record*, its full record too (for the catalogue)."""
    if not keep_record:
        return FileAccess.open_fresh(path), None
    rec = read_record(path)
    return FileAccess.from_record(rec), rec


class _CatalogView:
    """What the catalogue knows about one run; never raises on catalogue trouble.

    It loads the run's outline (files, trains, source names); the details
    of each source are fetched when first used, through :attr:`details`.
    An SQLite catalogue is read without SQLAlchemy
    (:mod:`~extra_catalog.catalog.quickread`) when the run has a stored
    outline; the SQLAlchemy :class:`~extra_catalog.catalog.Catalog` is
    opened only when needed (source details, writing back, a server URL).
    """

    def __init__(self, catalog: object, run_dir: Path):
        self.run_dir = run_dir
        self._catalog: _LazyCatalog | None = None
        self.outline: Outline | None = None  # from the quick path: records made on demand
        self._run: RunRecord | None = None
        self._records: dict[str, FileRecord] | None = None
        self.writable = False
        self.details: CatalogDetails | None = None
        try:
            self._load(catalog)
        except Exception as exc:  # noqa: BLE001 - the catalogue is an optimisation only
            self._unusable(exc)

    def _unusable(self, exc: Exception) -> None:
        warnings.warn(f"catalogue not used, reading the files of {self.run_dir} directly: {exc}",
                      stacklevel=5)
        self.close()
        self.outline, self._run, self._records = None, None, None
        self.writable, self.details = False, None

    @property
    def run(self) -> RunRecord | None:
        """The catalogued run (every file's record made), or None if not catalogued."""
        if self._run is None and self.outline is not None:
            self._run = self.outline.to_run_record()
        return self._run

    @property
    def records(self) -> dict[str, FileRecord]:
        """The catalogued files' records by name (empty if the run is not catalogued)."""
        if self._records is None:
            run = self.run
            if run is None:
                self._records = {}
            elif run.listing is not None:
                self._records = dict(zip([row[0] for row in run.listing], run.files))
            else:  # (the catalogue's file paths are the run's path and the file name)
                cut = len(os.path.join(run.info.path, ""))
                self._records = {r.path[cut:]: r for r in run.files}
        return self._records

    @property
    def catalog(self) -> Any:
        """The SQLAlchemy catalogue (opened now if it was not yet), or None if it cannot be.

        For the optional uses (locality filters, writing back): the outline
        and the files opened from it stay valid whatever happens here.
        """
        if self._catalog is None:
            return None
        try:
            return self._catalog()
        except Exception as exc:  # noqa: BLE001 - e.g. another schema revision
            log.info("catalogue for %s not opened: %s", self.run_dir, exc)
            return None

    def _load(self, catalog: object) -> None:
        if catalog is None:
            return
        if not isinstance(catalog, (str, os.PathLike)):  # a Catalog object
            self._catalog = _LazyCatalog(None, catalog)
            return self._load_slowly()
        url = None if catalog == DEFAULT_CATALOG else catalog
        self._catalog = _LazyCatalog(url)
        path = plain_sqlite_path(url)  # type: ignore[arg-type]
        if path is None:  # a database server: through SQLAlchemy
            return self._load_slowly()
        quick = quick_catalog(path)
        if quick is None:
            self._catalog = None  # no catalogue yet: nothing to use, nothing to say
            return
        self._catalog.quick = quick
        outline = quick.outline(self.run_dir)
        if outline is None:  # not catalogued, or without an outline
            return self._load_slowly()
        self.outline = outline
        sections = outline.source_sections()
        self.details = CatalogDetails(
            self._catalog, self.run_dir, outline.stats, outline.files_holding,
            one_file_first=lambda source: sections.get(source) == "INSTRUMENT")
        self.writable = _file_writable(path)

    def _load_slowly(self) -> None:
        from ..catalog.partial import load_run_outline

        assert self._catalog is not None
        catalog = self._catalog()  # errors: the files are read instead (see __init__)
        if catalog is None:
            return
        try:
            self._run = load_run_outline(catalog, str(self.run_dir))
        except ExtraCatalogError:
            self._run = None  # not catalogued (yet)
        else:
            self.details = CatalogDetails(self._catalog, self.run_dir, self.records)
        self.writable = _is_writable(catalog)

    def unchanged(self, listing: list[FileStat]) -> bool:
        """Whether the directory lists exactly the catalogued files, none changed.

        One comparison of two lists, made in C: the outline gives the listing
        an unchanged directory has (name, size, mtime, inode per file).
        """
        known = self.outline if self.outline is not None else self._run
        return known is not None and known.listing == listing

    def removed(self, listing: list[FileStat]) -> list[str]:
        """Catalogued files that are no longer in the directory."""
        if self.run is None:
            return []
        present = {f.name for f in listing}
        stored = set(self.records) | {os.path.basename(u.path) for u in self.run.unreadable}
        return sorted(stored - present)

    def write_back(self, fresh: dict[str, FileRecord], listing: list[FileStat],
                   whole_run: bool) -> bool:
        """Record files read from disk (and removals); False if not possible or not allowed."""
        wanted = self.writable and (self.run is not None or whole_run)
        catalog = self.catalog if wanted else None
        if catalog is None:
            return False
        from ..catalog import update_files
        from ..catalog import remove_files as remove
        from ..index.layout import parse_run_dir
        from ..index.crawler import run_info

        # The outline records suffice: the run's facts come from trains and METADATA.
        records = {**self.records, **fresh}
        for name in self.removed(listing):
            records.pop(name, None)
        info = run_info(parse_run_dir(self.run_dir), list(records.values()),
                        list(records.values()))
        try:
            with catalog.session_scope(write=True) as session:
                update_files(session, info, list(fresh.values()))
                if self.removed(listing):
                    remove(session, info, self.removed(listing))
        except Exception as exc:  # noqa: BLE001 - e.g. a read-only database user
            log.info("could not record %s in the catalogue: %s", self.run_dir, exc)
            return False
        return True

    def close(self) -> None:
        # Shared and user-given catalogues stay open: the runs opened from
        # them fetch source details later.
        self._catalog = None

    def __enter__(self) -> _CatalogView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _LazyCatalog:
    """Gives the SQLAlchemy catalogue of a URL, opening it on the first call.

    ``quick`` is the same SQLite catalogue read through :mod:`sqlite3`, if it is one.
    """

    def __init__(self, url: object, catalog: Any = None) -> None:
        self.url = url
        self._catalog = catalog
        self.quick: QuickCatalog | None = None

    def __call__(self) -> Any:
        if self._catalog is None:
            self._catalog = shared_catalog(self.url)  # type: ignore[arg-type]
        return self._catalog


def _is_writable(catalog: object) -> bool:
    from ..catalog.engine import sqlite_file

    path = sqlite_file(catalog.url)  # type: ignore[attr-defined]
    # A server decides; a refused write is caught and ignored.
    return True if path is None else _file_writable(path)


def _file_writable(path: Path) -> bool:
    """Whether this process may write an SQLite file (and its journal beside it)."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
