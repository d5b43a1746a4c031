"""FileAccess: one EuXFEL HDF5 file, described from the file or from a record.

A FileAccess answers every metadata question (train IDs, sources, keys,
index arrays, RUN values...) from a :class:`~extra_catalog.records.FileRecord`.
Built from a path it reads that record from the file once; built with
:meth:`FileAccess.from_record` it takes the catalogue's record and does not
touch the file until data is read through :attr:`FileAccess.file` or
:meth:`FileAccess.dset_proxy`. There is one instance per absolute path.
"""

from __future__ import annotations

import os
import threading
import warnings
import weakref
from dataclasses import dataclass, replace
from functools import cached_property
from collections.abc import Callable, Sequence
from typing import Any

import h5py
import numpy as np

from ..exceptions import (CorruptFileError, ExtraCatalogError, PropertyNameError,
                          SourceNameError)
from ..records import FileRecord, KeyRecord, ProblemRecord, Scalar, SourceRecord
from . import handles
from .codec import decode_array, dtype_from_str
from .extract import FileBasics, read_basics, read_source
from .format import flag_is_inverted
from .h5info import to_scalar
from .paths import PathInfo, parse_path
from .proxy import DatasetProxy
from .rawview import RawFileView, RecordChecks

__all__ = ["FileAccess", "KeyInfo", "SourceDetails", "prefetch_details", "read_record"]

#: Gives the complete record of a source of a file built from an outline
#: record (see :meth:`FileAccess.from_record`), or None if it cannot.
SourceDetails = Callable[["FileAccess", str], "SourceRecord | None"]


class _Registry:
    """The FileAccess of each absolute path, held weakly.

    What a :class:`weakref.WeakValueDictionary` does, but filled with plain
    weak references (made in C): opening a 500-file run registers 500
    objects, and the dictionary's Python-level keyed references took
    longer than building the objects. References to collected objects are
    dropped whenever the table has doubled since the last sweep.
    """

    def __init__(self) -> None:
        self._refs: dict[str, weakref.ref[FileAccess]] = {}
        self._sweep_at = 1024

    def get(self, path: str) -> FileAccess | None:
        ref = self._refs.get(path)
        return None if ref is None else ref()

    def __setitem__(self, path: str, inst: FileAccess) -> None:
        self._refs[path] = weakref.ref(inst)
        self.sweep_if_grown()

    def setdefault(self, path: str, inst: FileAccess) -> FileAccess:
        existing = self.get(path)
        if existing is not None:
            return existing
        self[path] = inst
        return inst

    def __delitem__(self, path: str) -> None:
        del self._refs[path]

    def __len__(self) -> int:
        return sum(1 for ref in self._refs.values() if ref() is not None)

    def clear(self) -> None:
        self._refs.clear()

    def sweep_if_grown(self) -> None:
        """Drop the references to collected objects if the table has doubled."""
        if len(self._refs) > self._sweep_at:
            self._refs = {path: ref for path, ref in self._refs.items() if ref() is not None}
            self._sweep_at = max(1024, 2 * len(self._refs))


_registry = _Registry()
_registry_lock = threading.RLock()


@dataclass(frozen=True)
class KeyInfo:
    """What is known of one key (dataset) without reading its data.

    Attributes
    ----------
    dtype : numpy.dtype
    entry_shape : tuple of int
        Shape of one entry (dataset shape without the first axis).
    length : int
        Number of entries stored in this file.
    chunks, compression, compression_opts, shuffle
        HDF5 storage settings (chunks None when contiguous).
    attrs : dict
        Karabo attributes (CONTROL: property group attrs merged).
    """

    dtype: np.dtype
    entry_shape: tuple[int, ...]
    length: int
    chunks: tuple[int, ...] | None
    compression: str | None
    compression_opts: int | None
    shuffle: bool
    attrs: dict[str, Scalar]


def _frozen(arr: np.ndarray) -> np.ndarray:
    # Cached arrays are shared by every caller: make accidental in-place
    # changes fail instead of corrupting the cache.
    arr.flags.writeable = False
    return arr


# Decoded INDEX arrays, shared: the modules of a detector and the sequence
# files of a run repeat the same first/count arrays (a 528-file run decodes
# ~3,000 arrays, a few dozen of them distinct). Entries go when unused.
_decoded: weakref.WeakValueDictionary[bytes, np.ndarray] = weakref.WeakValueDictionary()
_decoded_lock = threading.Lock()


def _shared_array(blob: bytes) -> np.ndarray:
    """The frozen array of an encoded blob, shared with every other user of equal bytes."""
    with _decoded_lock:
        found = _decoded.get(blob)
        if found is None:
            found = _decoded[blob] = _frozen(decode_array(blob))
        return found


def prefetch_details(files: Sequence[FileAccess], source: str) -> None:
    """Let the catalogue complete *source* in all of *files* at once, before they are used.

    Files built from an outline ask for a source's details one by one when
    first used; a reader about to use many of them says so here (their
    :data:`SourceDetails` may have a ``prefetch(source, files)`` method).
    """
    waiting: dict[int, tuple[Any, list[FileAccess]]] = {}
    for fa in files:
        details = fa._details
        if details is not None and fa.legacy_sources.get(source, source) not in fa._src_records:
            waiting.setdefault(id(details), (details, []))[1].append(fa)
    for details, group in waiting.values():
        prefetch = getattr(details, "prefetch", None)
        if prefetch is not None and len(group) > 1:
            prefetch(source, group)


def _restore(filename: str, record: FileRecord | None) -> FileAccess:
    """Unpickle: the registered instance of *filename*, else one from *record*
    (or from the file when the record was not complete yet)."""
    with _registry_lock:
        existing = _registry.get(filename)
    if existing is not None:
        return existing
    if record is None:
        return FileAccess(filename)
    return FileAccess.from_record(record)


class _Layout:
    """The per-section source sets of a file, shared by files with the same sources."""

    __slots__ = ("sections", "control", "instrument", "reduction", "errata")

    def __init__(self, sections: dict[str, str]) -> None:
        by_section: dict[str, set[str]] = {}
        for name, section in sections.items():
            by_section.setdefault(section, set()).add(name)
        self.sections = sections
        self.control = frozenset(by_section.get("CONTROL", ()))
        self.instrument = frozenset(by_section.get("INSTRUMENT", ()))
        self.reduction = frozenset(by_section.get("REDUCTION", ()))
        self.errata = frozenset(by_section.get("ERRATA", ()))


# Sequence files of one aggregator share one tuple of source records (the
# catalogue's outline decodes each distinct list once): one layout per
# tuple. Keyed by id(); the entry holds the tuple, so the id stays its own.
_layouts: dict[int, tuple[tuple[SourceRecord, ...], _Layout]] = {}


def _layout_of(sources: tuple[SourceRecord, ...]) -> _Layout:
    found = _layouts.get(id(sources))
    if found is not None and found[0] is sources:
        return found[1]
    layout = _Layout({s.name: s.section for s in sources})
    if len(_layouts) > 4096:
        _layouts.clear()
    _layouts[id(sources)] = (sources, layout)
    return layout


class FileAccess:
    """Access to one EuXFEL HDF5 file.

    Parameters
    ----------
    filename : str or path-like
        Path of the file; instances are shared per absolute path.
    _cache_info : FileRecord, optional
        A record of this file (as :meth:`from_record`), to avoid reading it.

    Raises
    ------
    DataFileNotFoundError, DataFilePermissionError, CorruptFileError
        When the file cannot be opened or read.
    FileStructureError
        When the file is HDF5 but not EuXFEL data.
    """

    filename: str
    format_version: str
    _record: FileRecord | None = None  # the complete record, once known
    _basics: FileBasics | None = None  # what was read from the file, if it was
    _details: SourceDetails | None = None  # where an outline's sources are completed
    control_sources: frozenset[str]
    instrument_sources: frozenset[str]
    reduction_sources: frozenset[str]
    errata_sources: frozenset[str]
    legacy_sources: dict[str, str]
    is_voview: bool

    def __new__(
        cls, filename: str | os.PathLike, _cache_info: FileRecord | None = None
    ) -> FileAccess:
        path = os.path.abspath(os.fspath(filename))
        if _cache_info is not None:
            if os.path.abspath(_cache_info.path) != path:
                raise ValueError(f"record is for {_cache_info.path}, not {path}")
            return cls.from_record(_cache_info)
        with _registry_lock:
            existing = _registry.get(path)
        if existing is not None:
            return existing
        basics, st, is_voview = _read_basics(path)
        if flag_is_inverted(basics.record.format_version):
            # As EXtra-data warns when it reads a 1.1 file's flags (not from its cache).
            warnings.warn("Train validation is not fully supported for data format version "
                          "1.1. If you have issues accessing these files, please contact "
                          "da-support@xfel.eu.", UserWarning, stacklevel=2)
        sections = {name: section for name, (section, _) in basics.sources.items()}
        inst = cls._build(basics.record, _Layout(sections), is_voview, path)
        inst._basics = basics
        inst.metadata_fstat = st
        with _registry_lock:
            # Another thread may have registered the path meanwhile: share it.
            return _registry.setdefault(path, inst)

    @classmethod
    def open_fresh(cls, filename: str | os.PathLike) -> FileAccess:
        """``FileAccess(filename)``, read again if the file changed since it was registered.

        ``FileAccess(path)`` returns the instance already made for a path;
        for a file that is still being written that instance can be out of
        date. This compares its size and mtime with the file first.
        """
        path = os.path.abspath(os.fspath(filename))
        st = handles.stat_file(path)
        with _registry_lock:
            existing = _registry.get(path)
            if existing is not None and not existing.matches_stat(st.st_size, st.st_mtime):
                del _registry[path]
                handles.get_handle_cache().close(path)
        return cls(path)

    def matches_stat(self, size: int, mtime: float) -> bool:
        """Whether this object describes the file as it is with this size and mtime."""
        return (self._head.size, self._head.mtime) == (size, mtime)

    @classmethod
    def from_record(cls, record: FileRecord, details: SourceDetails | None = None) -> FileAccess:
        """The FileAccess described by *record*, without opening the file.

        An instance already registered for the path is reused when its size
        and mtime match the record (taking the record's sources it has not
        read yet), else replaced by a new one.

        With *details*, *record* is an outline: its sources have their names
        and sections only. The complete record of a source is asked from
        ``details(file_access, source)`` when first needed, and read from
        the file when that gives None (if the file is still the one
        *record* describes).
        """
        return cls.from_records([record], details)[0]

    @classmethod
    def from_records(cls, records: list[FileRecord],
                     details: SourceDetails | None = None) -> list[FileAccess]:
        """:meth:`from_record` for each of *records* (the files of a run, say)."""
        out = []
        build, ref = cls._build, weakref.ref
        with _registry_lock:
            refs = _registry._refs  # (filled directly: this runs for every file of a run)
            for record in records:
                path = record.path
                if not path.startswith("/") or "/." in path or "//" in path:
                    path = os.path.abspath(path)  # (catalogue paths are already normal)
                known = refs.get(path)
                existing = None if known is None else known()
                if existing is not None and (existing._head.size, existing._head.mtime) == (
                        record.size, record.mtime):
                    if details is None:
                        existing._adopt(record)
                    out.append(existing)
                    continue
                inst = build(record, _layout_of(record.sources),
                             path.endswith("/overview.h5"), path)
                if details is None:
                    inst._record = record
                    inst._src_records = {s.name: s for s in record.sources}
                else:
                    inst._details = details
                refs[path] = ref(inst)
                out.append(inst)
            _registry.sweep_if_grown()
        return out

    @classmethod
    def _build(cls, head: FileRecord, layout: _Layout, is_voview: bool,
               filename: str) -> FileAccess:
        self = object.__new__(cls)
        self._head = head  # the record, complete or without its sources
        # (_record, _basics and _details are None until set: class attributes)
        self._src_records: dict[str, SourceRecord] = {}
        self._src_problems: dict[str, tuple[ProblemRecord, ...]] = {}
        self._lock = threading.Lock()
        self.filename = filename  # absolute and normalised
        self.format_version = head.format_version
        self.is_voview = is_voview
        self._sections = layout.sections
        self.control_sources = layout.control
        self.legacy_sources = dict(head.legacy_sources)
        # As in EXtra-data, legacy names are listed among the instrument
        # sources (they are in the file's source list); legacy_sources says
        # which ones they are.
        self.instrument_sources = layout.instrument | frozenset(
            self.legacy_sources) if self.legacy_sources else layout.instrument
        self.reduction_sources = layout.reduction
        self.errata_sources = layout.errata
        self._index_cache: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        self._keys_cache: dict[str, dict[str, KeyRecord]] = {}
        return self

    def _adopt(self, record: FileRecord) -> None:
        """Take the sources of a matching record instead of reading them."""
        with self._lock:
            if self._record is None:
                for src in record.sources:
                    self._src_records.setdefault(src.name, src)
                self._record = record

    # ---- identity, pickling --------------------------------------------------

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FileAccess) and other.filename == self.filename

    def __hash__(self) -> int:
        return hash((FileAccess, self.filename))

    def __reduce__(self) -> tuple[Any, ...]:
        # A complete record travels along, so a worker process need not
        # open the file for metadata; otherwise the worker reads the file.
        return (_restore, (self.filename, self._record))

    def __repr__(self) -> str:
        return f"FileAccess({self.filename!r})"

    # ---- per-file facts ----------------------------------------------------------

    @property
    def all_sources(self) -> frozenset[str]:
        """Control and instrument sources, legacy names included (not auxiliary)."""
        return self.control_sources | self.instrument_sources

    @cached_property
    def train_ids(self) -> np.ndarray:
        """Train IDs (uint64) of the file, trailing zero padding dropped."""
        return _frozen(decode_array(self._head.train_ids))

    @cached_property
    def validity_flag(self) -> np.ndarray:
        """Bool per train: True for good trains, False for suspect ones."""
        return _frozen(decode_array(self._head.validity).astype(bool))

    @property
    def valid_train_ids(self) -> np.ndarray:
        """Train IDs of the good (not suspect) trains."""
        return self.train_ids[self.validity_flag]

    @cached_property
    def timestamps(self) -> np.ndarray | None:
        """``INDEX/timestamp`` (uint64 ns since the epoch) or None if absent."""
        ts = self._head.timestamps
        return None if ts is None else _frozen(decode_array(ts))

    @cached_property
    def metadata_fstat(self) -> os.stat_result:
        """``os.stat`` of the file when it was read (built from a record:
        size, mtime and inode set, other fields 0)."""
        r = self._head
        return os.stat_result((0, r.inode, 0, 0, 0, 0, r.size, 0, r.mtime, 0))

    @property
    def problems(self) -> tuple[ProblemRecord, ...]:
        """Problems noticed while reading the file (reads every source)."""
        return self.to_record().problems

    def metadata(self) -> dict[str, Scalar]:
        """METADATA scalars (bytes decoded); ``{'dataFormatVersion': '0.5'}`` for 0.5."""
        return dict(self._head.metadata)

    def has_train_ids(self, tids: np.ndarray, inc_suspect: bool = False) -> bool:
        """Whether any of *tids* is a train of this file (suspect ones only
        when *inc_suspect*)."""
        tids = np.asarray(tids, dtype=np.uint64)
        if not len(tids):
            return False
        # Selecting a few trains asks every file of a source: most hold none,
        # as their range shows (np.isin costs ~0.1 ms even on tiny arrays).
        lo, hi = self._train_range[inc_suspect]
        if lo > hi or tids.max() < lo or tids.min() > hi:
            return False
        mine = self.train_ids if inc_suspect else self.valid_train_ids
        return bool(np.isin(tids, mine).any())

    @cached_property
    def _train_range(self) -> dict[bool, tuple[int, int]]:
        """(lowest, highest) train ID, of all trains (True) and of the good ones (False).

        ``(1, 0)`` when there is none. From the catalogue's outline when it
        gives them (then the train IDs need not be decoded), else from the IDs.
        """
        known = getattr(self._head, "train_range", None)
        if known is not None:
            lo, hi, good_lo, good_hi = known
            return {True: (lo, hi), False: (good_lo, good_hi)}
        out = {}
        for inc_suspect, ids in ((True, self.train_ids), (False, self.valid_train_ids)):
            out[inc_suspect] = (int(ids.min()), int(ids.max())) if len(ids) else (1, 0)
        return out

    def to_record(self) -> FileRecord:
        """Everything known about this file, for the catalogue.

        Built from a file, this reads every source not read yet.
        """
        if self._record is None:
            sources = tuple(self._source(name) for name in self._sections)
            problems = list(self._head.problems)
            for name in self._sections:
                problems += self._src_problems.get(name, ())
            self._record = replace(self._head, sources=sources, problems=tuple(problems))
        return self._record

    # ---- path information --------------------------------------------------------

    @cached_property
    def _path_info(self) -> PathInfo:
        info = parse_path(self.filename)
        if info.instrument is None:
            real = os.path.realpath(self.filename)
            if real != self.filename:
                info = parse_path(real)
        return info

    @property
    def storage_class(self) -> str | None:
        """``'raw'``, ``'proc'``... from the facility path, else None."""
        return self._path_info.storage_class

    @property
    def instrument(self) -> str | None:
        """Instrument (``'SPB'``...) from the facility path, else None."""
        return self._path_info.instrument

    @property
    def cycle(self) -> str | None:
        """Cycle (``'202601'``) from the facility path, else None."""
        return self._path_info.cycle

    @property
    def proposal(self) -> int | None:
        """Proposal number from the facility path, else None."""
        return self._path_info.proposal

    @property
    def run(self) -> int | None:
        """Run number from the file name or the run directory, else None."""
        return self._path_info.run

    @property
    def data_category(self) -> str | None:
        """``'RAW'`` or ``'CORR'`` from the file name, else None."""
        return self._path_info.data_category

    @property
    def aggregator(self) -> str | None:
        """``'DA01'``, ``'AGIPD00'``... from the file name, else None."""
        return self._path_info.aggregator

    @property
    def sequence(self) -> int | None:
        """Sequence number from the file name (0 for overview files), else None."""
        return self._path_info.sequence

    # ---- sources and keys ----------------------------------------------------------

    def _source(self, source: str) -> SourceRecord:
        name = self.legacy_sources.get(source, source)
        rec = self._src_records.get(name)
        if rec is not None:
            return rec
        if name not in self._sections:
            raise SourceNameError(
                source, f"{self.filename} has no source named {source!r}; "
                "see .all_sources (auxiliary: .reduction_sources, .errata_sources)"
            )
        with self._lock:
            rec = self._src_records.get(name)
            if rec is None:
                rec = self._src_records[name] = self._complete_source(name)
        return rec

    def _complete_source(self, name: str) -> SourceRecord:
        """The complete record of a source not known yet: from *details*, else the file."""
        if self._details is not None:
            rec = self._details(self, name)
            if rec is not None:
                return rec
        if self._basics is None:  # built from an outline: the file must still match it
            st = handles.stat_file(self.filename)
            if not self.matches_stat(st.st_size, st.st_mtime):
                raise CorruptFileError(
                    self.filename, f"details of source {name!r} are not in the catalogue and "
                    "the file changed since its metadata was read: open the run again")
            self._basics = _read_basics(self.filename)[0]
        rec, problems = _read_source(self.filename, self.file, self._basics, name)
        self._src_problems[name] = problems
        return rec

    def source_section(self, source: str) -> str:
        """'CONTROL', 'INSTRUMENT', 'REDUCTION' or 'ERRATA'."""
        return self._source(source).section

    def index_groups(self, source: str) -> set[str]:
        """Index groups of *source*: ``{''}`` for CONTROL sources."""
        return {g.name for g in self._source(source).index_groups}

    def get_index(self, source: str, group: str) -> tuple[np.ndarray, np.ndarray]:
        """``(first, count)`` uint64 arrays, one entry per train.

        Raises
        ------
        SourceNameError
            Unknown source.
        ValueError
            The source has no such index group.
        """
        src = self._source(source)
        cache_key = (src.name, group)
        try:
            return self._index_cache[cache_key]
        except KeyError:
            pass
        for rec in src.index_groups:
            if rec.name == group:
                value = (_shared_array(rec.first), _shared_array(rec.count))
                self._index_cache[cache_key] = value
                return value
        raise ValueError(
            f"{self.filename}: source {source!r} has no index group {group!r} "
            f"(groups: {sorted(g.name for g in src.index_groups)})"
        )

    def _keys(self, source: str) -> dict[str, KeyRecord]:
        src = self._source(source)
        keys = self._keys_cache.get(src.name)
        if keys is None:
            keys = self._keys_cache[src.name] = {k.name: k for k in src.keys}
        return keys

    def get_keys(self, source: str) -> set[str]:
        """All keys of *source* (CONTROL keys end in ``.value``/``.timestamp``)."""
        return set(self._keys(source))

    def get_one_key(self, source: str, index_group: str | None = None) -> str | None:
        """Some key of *source* (in *index_group* if given), None if it has none."""
        prefix = "" if not index_group else index_group + "."
        for name in self._keys(source):
            if name.startswith(prefix):
                return name
        return None

    def has_source_key(self, source: str, key: str) -> bool:
        """Whether *source* has exactly the key *key* in this file."""
        return key in self._keys(source)

    def key_info(self, source: str, key: str) -> KeyInfo:
        """dtype, entry shape, storage and attributes of one key.

        Raises
        ------
        PropertyNameError
            Unknown key.
        """
        rec = self._keys(source).get(key)
        if rec is None:
            raise PropertyNameError(key, source)
        return KeyInfo(
            dtype=dtype_from_str(rec.dtype),
            entry_shape=tuple(rec.entry_shape),
            length=rec.length,
            chunks=None if rec.chunks is None else tuple(rec.chunks),
            compression=rec.compression,
            compression_opts=rec.compression_opts,
            shuffle=rec.shuffle,
            attrs=dict(rec.attrs),
        )

    def dataset_path(self, source: str, key: str) -> str:
        """HDF5 path of the dataset of *key* (the canonical source's path)."""
        src = self._source(source)
        return f"{src.section}/{src.name}/{key.replace('.', '/')}"

    def get_run_keys(self, source: str) -> set[str]:
        """Keys of ``RUN/<source>``.

        Raises
        ------
        SourceNameError
            The file has no RUN data for *source* (e.g. most instrument
            sources), as in EXtra-data.
        """
        keys = {rv.key for rv in self._source(source).run_values}
        if not keys:
            raise SourceNameError(source)
        return keys

    def get_run_values(self, source: str) -> dict[str, Any]:
        """RUN values of *source*: key -> value (strings decoded).

        Scalars come from the record; array values are read from the file.
        """
        src = self._source(source)
        out: dict[str, Any] = {}
        for rv in src.run_values:
            if rv.summary is None:
                out[rv.key] = _as_stored_type(rv.value, rv.dtype)
            elif rv.summary == "empty":
                out[rv.key] = None
            else:
                out[rv.key] = self._read_run_array(src.name, rv.key)
        return out

    def _read_run_array(self, source: str, key: str) -> Any:
        value = self.file[f"RUN/{source}/{key.replace('.', '/')}"][0]
        if isinstance(value, np.ndarray) and value.dtype.kind == "O":
            return np.array([to_scalar(v) for v in value.reshape(-1)], dtype=object).reshape(
                value.shape
            )
        return value

    # ---- data access -------------------------------------------------------------

    @property
    def file(self) -> h5py.File:
        """The open h5py file (opened now if it is not open)."""
        return handles.open_file(self.filename)

    def dset_proxy(self, path: str) -> DatasetProxy:
        """A lazy proxy for the dataset at *path* in this file."""
        return DatasetProxy(self, path)

    def close(self) -> None:
        """Let the file be closed (objects still in use keep it open)."""
        handles.get_handle_cache().close(self.filename)


def _as_stored_type(value: Scalar, dtype: str) -> Any:
    """A scalar from a record as the numpy type it has in the file (np.float32...).

    Records keep plain Python values; readers expect what h5py would give.
    """
    if isinstance(value, (bool, int, float)):
        dt = dtype_from_str(dtype)
        if dt.kind in "biuf":
            return dt.type(value)
    return value


def read_record(filename: str | os.PathLike, *, checks: RecordChecks | None = None) -> FileRecord:
    """Read the complete record of a file afresh, ignoring registered instances.

    For the crawler: a file that changed since a FileAccess was made for it
    (a run still being written) is read again from disk, with a new HDF5
    handle. The registry is left untouched.

    Parameters
    ----------
    filename : path-like
    checks : callable, optional
        ``checks(view, record)`` is called before the file is closed, with a
        :class:`~.rawview.RawFileView` and the record read; the problems it
        returns replace the reader's notes in ``record.problems``. The
        crawler passes the validation checks here, so each file is opened once.

    Raises
    ------
    DataFileNotFoundError, DataFilePermissionError, CorruptFileError
    FileStructureError
    """
    path = os.path.abspath(os.fspath(filename))
    cache = handles.get_handle_cache()
    cache.close(path)  # a handle opened before the change may be stale
    try:
        basics, _st, _voview = _read_basics(path)
        f = handles.open_file(path)
        sources = []
        problems = list(basics.record.problems)
        for name in basics.sources:
            rec, probs = _read_source(path, f, basics, name)
            sources.append(rec)
            problems += probs
        record = replace(basics.record, sources=tuple(sources), problems=tuple(problems))
        if checks is not None:
            record = replace(record, problems=tuple(checks(RawFileView(path, f), record)))
    finally:
        cache.close(path)
    return record


def _read_basics(path: str) -> tuple[FileBasics, os.stat_result, bool]:
    """Read the cheap part of the file at *path*; errors name the path."""
    st = handles.stat_file(path)
    f = handles.open_file(path)
    try:
        basics = read_basics(path, f, st)
        is_voview = "virtual_overview_version" in f.attrs
    except _READ_ERRORS as exc:
        handles.get_handle_cache().close(path)
        if isinstance(exc, ExtraCatalogError):
            raise
        raise CorruptFileError(path, f"error while reading the file: {_describe(exc)}") from None
    except BaseException:
        handles.get_handle_cache().close(path)  # not EuXFEL data: don't keep it open
        raise
    return basics, st, is_voview


def _read_source(
    path: str, f: h5py.File, basics: FileBasics | None, name: str
) -> tuple[SourceRecord, tuple[ProblemRecord, ...]]:
    if basics is None:  # pragma: no cover - records always hold every source
        raise RuntimeError(f"{path}: source {name!r} missing from the record")
    try:
        return read_source(f, basics, name)
    except _READ_ERRORS as exc:
        if isinstance(exc, ExtraCatalogError):
            raise
        raise CorruptFileError(
            path, f"error while reading source {name!r}: {_describe(exc)}"
        ) from None


# What h5py and numpy raise on damaged files (besides our own exceptions).
_READ_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError, IndexError)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
