"""Plain records that cross the boundary between files, crawler and catalogue.

A :class:`FileRecord` holds everything the catalogue knows about one EuXFEL
HDF5 file: enough to build a :class:`~extra_catalog.FileAccess` without opening
the file. The crawler makes records from files
(``FileAccess(path).to_record()``), the catalogue stores and returns them,
and the reader builds ``FileAccess.from_record(record)``.

This module imports neither h5py, numpy nor SQLAlchemy. Per-train arrays
(train IDs, validity flags, timestamps, INDEX first/count) are carried as
opaque ``bytes`` produced by :mod:`extra_catalog.fileaccess.codec`, which
stores them compactly (constant, arithmetic and run-length forms, else
compressed raw little-endian values); the catalogue stores them as blobs
without looking inside.

All records are frozen dataclasses made only of str, int, float, bool, None,
bytes and tuples of those, so they are hashable, picklable and cheap to send
between processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "Scalar",
    "IndexGroupRecord",
    "KeyRecord",
    "RunValueRecord",
    "SourceRecord",
    "ProblemRecord",
    "FileRecord",
    "SECTIONS",
]

#: A JSON-compatible scalar value.
Scalar = str | int | float | bool | None

#: The data sections a source can belong to, as named in the HDF5 file.
SECTIONS = ("CONTROL", "INSTRUMENT", "REDUCTION", "ERRATA")

_R = TypeVar("_R")


def trusted(cls: type[_R], /, **fields: Any) -> _R:
    """A record of frozen dataclass *cls* from fields known to be right.

    The same object as ``cls(**fields)`` (fields not given keep their
    plain defaults), without the generated ``__init__``, which sets every
    field through ``object.__setattr__``: about twice as fast for records
    with many fields, but each keeps its fields in a dictionary of its own
    (~250 more bytes than the constructor's compact form), so for records
    that are few or shared (key descriptions), not for the numerous ones.
    """
    inst = object.__new__(cls)
    inst.__dict__.update(fields)
    return inst


@dataclass(frozen=True)
class IndexGroupRecord:
    """INDEX first/count arrays of one source and index group in one file.

    Attributes
    ----------
    name : str
        Index group: ``''`` for CONTROL sources, else the first component of
        the keys (``'image'``, ``'header'``, ``'data'``...).
    first, count : bytes
        Encoded uint64 arrays, one entry per train of the file (after the
        train-ID padding is dropped). For the old ``first/last/status``
        format these are already converted to first/count.
    """

    name: str
    first: bytes
    count: bytes


@dataclass(frozen=True)
class KeyRecord:
    """One key (dataset) of a source in one file.

    Attributes
    ----------
    name : str
        Dotted key as users write it: ``'beamPosition.ixPos.value'`` for
        CONTROL, ``'image.data'`` for INSTRUMENT.
    dtype : str
        The numpy dtype, encoded by ``codec.dtype_to_str`` (``'<u2'``,
        ``'|O'`` for variable-length strings, a JSON description for
        compound types); decode with ``codec.dtype_from_str``.
    entry_shape : tuple of int
        Shape of one entry (the dataset shape without its first axis).
    length : int
        Number of entries in the dataset (its first dimension).
    chunks : tuple of int or None
        HDF5 chunk shape, ``None`` for contiguous datasets.
    compression : str or None
        HDF5 compression filter name (``'gzip'``, ``'lzf'``...) or None.
    compression_opts : int or None
        Compression level or options, where the filter has one.
    shuffle : bool
        Whether the shuffle filter is applied.
    attrs : tuple of (str, scalar) pairs
        Karabo attributes of the key (``unitSymbol``, ``metricPrefixSymbol``,
        ``unitName``, ``metricPrefixName``, ``description``...); for CONTROL
        keys, attributes of the property group merged with those of the
        dataset, as EXtra-data's ``KeyData.attributes()`` gives them.
    """

    name: str
    dtype: str
    entry_shape: tuple[int, ...]
    length: int
    chunks: tuple[int, ...] | None = None
    compression: str | None = None
    compression_opts: int | None = None
    shuffle: bool = False
    attrs: tuple[tuple[str, Scalar], ...] = ()


@dataclass(frozen=True)
class RunValueRecord:
    """One value of the RUN section (the state at the start of the run).

    Attributes
    ----------
    key : str
        Dotted key, e.g. ``'actualPosition.value'`` or
        ``'actualPosition.timestamp'``.
    dtype : str
        As :attr:`KeyRecord.dtype`.
    shape : tuple of int
        Shape of the value (``()`` for scalars).
    value : scalar or None
        The value itself when it is a scalar (bytes decoded to str);
        ``None`` for arrays, which are described by ``summary`` instead.
    summary : str or None
        For arrays: a short description (shape, dtype, min/max or first items).
    """

    key: str
    dtype: str
    shape: tuple[int, ...]
    value: Scalar
    summary: str | None = None


@dataclass(frozen=True)
class SourceRecord:
    """One source in one file.

    Attributes
    ----------
    name : str
        Source name: ``'SA1_XTD2_XGM/DOOCS/MAIN'`` (CONTROL) or
        ``'SPB_DET_AGIPD1M-1/DET/0CH0:xtdf'`` (INSTRUMENT and auxiliary).
    section : str
        One of :data:`SECTIONS`.
    index_groups : tuple of IndexGroupRecord
    keys : tuple of KeyRecord
        Keys of the section's data (CONTROL keys include ``.value`` and
        ``.timestamp``).
    run_values : tuple of RunValueRecord
        Values of ``RUN/<source>`` (CONTROL sources; empty otherwise unless
        the file has RUN data for the source).
    """

    name: str
    section: str
    index_groups: tuple[IndexGroupRecord, ...] = ()
    keys: tuple[KeyRecord, ...] = ()
    run_values: tuple[RunValueRecord, ...] = ()


@dataclass(frozen=True)
class ProblemRecord:
    """A problem found while reading a file.

    Attributes
    ----------
    check : str
        Short machine name of the check (``'train_ids_order'``,
        ``'index_instrument'``, ``'unreadable'``...).
    message : str
        Human-readable description.
    source, dataset : str or None
        Where the problem is, when it concerns one source or dataset.
    train_id : int or None
        A train concerned, when there is one.
    details : tuple of (str, scalar) pairs
        Further facts for the report (``index_shape``, ``error``...), as
        EXtra-data's validation adds them to its problem dicts.
    """

    check: str
    message: str
    source: str | None = None
    dataset: str | None = None
    train_id: int | None = None
    details: tuple[tuple[str, Scalar], ...] = ()


@dataclass(frozen=True)
class FileRecord:
    """Everything recorded about one EuXFEL HDF5 file.

    Attributes
    ----------
    path : str
        Absolute path of the file.
    size, mtime, inode : int, float, int
        From ``os.stat`` when the file was read (used to detect changes).
    format_version : str
        ``'0.5'`` when ``METADATA/dataFormatVersion`` is absent.
    train_ids : bytes
        Encoded uint64 train IDs (trailing zero padding dropped).
    validity : bytes
        Encoded uint8 flags, 1 = good train, 0 = suspect, already corrected
        for format 1.1 (inverted flag) and guessed for 0.5.
    timestamps : bytes or None
        Encoded uint64 ``INDEX/timestamp`` (ns since the epoch), None if absent.
    metadata : tuple of (str, scalar) pairs
        ``METADATA`` scalars as ``FileAccess.metadata()`` gives them.
    sources : tuple of SourceRecord
        Control, instrument and auxiliary sources (not legacy names).
    legacy_sources : tuple of (str, str) pairs
        Legacy source name -> canonical source name.
    problems : tuple of ProblemRecord
        Problems noticed while reading the file.
    """

    path: str
    size: int
    mtime: float
    inode: int
    format_version: str
    train_ids: bytes
    validity: bytes
    timestamps: bytes | None = None
    metadata: tuple[tuple[str, Scalar], ...] = ()
    sources: tuple[SourceRecord, ...] = ()
    legacy_sources: tuple[tuple[str, str], ...] = ()
    problems: tuple[ProblemRecord, ...] = field(default=())

    def source(self, name: str) -> SourceRecord:
        """Return the record of the source *name* (KeyError if absent)."""
        for src in self.sources:
            if src.name == name:
                return src
        raise KeyError(name)
