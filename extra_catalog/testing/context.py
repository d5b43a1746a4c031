"""The state shared by devices while one file is written.

Devices describe what to write; :class:`WriteContext` writes it into the
CONTROL/RUN/INSTRUMENT/auxiliary sections, remembers the data source list
and collects per-train counts. INDEX is written last (by
:mod:`extra_catalog.testing.files`) so that file-level faults can edit the
first/count arrays before they reach the disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import h5py
import numpy as np

from ._common import train_timestamps_ns
from ._h5 import CONTIGUOUS, Storage, set_attrs, write_dataset

__all__ = ["ControlProperty", "InstrumentKey", "IndexGroup", "WriteContext"]


@dataclass
class ControlProperty:
    """One Karabo property of a CONTROL source, ready to write.

    Attributes
    ----------
    path : str
        Dotted property path, e.g. ``'beamPosition.ixPos'``.
    values : ndarray
        One entry per train of the file.
    timestamps : ndarray
        uint64 ns, one per train.
    run_value : ndarray
        The single RUN entry (shape ``(1, ...)``).
    run_timestamp : int
    attrs : dict
        Karabo attributes of the property group (units...).
    """

    path: str
    values: np.ndarray
    timestamps: np.ndarray
    run_value: np.ndarray
    run_timestamp: int
    attrs: dict[str, object] = field(default_factory=dict)


@dataclass
class InstrumentKey:
    """One dataset of an instrument (or auxiliary) index group."""

    data: np.ndarray
    storage: Storage = CONTIGUOUS
    attrs: dict[str, object] = field(default_factory=dict)


@dataclass
class IndexGroup:
    """INDEX arrays of one (source, index group) before they are written.

    ``group`` is ``''`` for CONTROL sources. ``data_paths`` are the HDF5
    paths of the datasets the index points into.
    """

    section: str
    source: str
    group: str
    first: np.ndarray
    count: np.ndarray
    data_paths: list[str]

    @property
    def index_path(self) -> str:
        """HDF5 path of the INDEX group holding first/count."""
        base = f"INDEX/{self.source}"
        return f"{base}/{self.group}" if self.group else base


def counts_to_first(counts: np.ndarray) -> np.ndarray:
    """Contiguous layout: each train starts where the previous one ended."""
    first = np.zeros(len(counts), dtype=np.uint64)
    if len(counts) > 1:
        np.cumsum(counts[:-1], out=first[1:])
    return first


class WriteContext:
    """Writes device data into one open HDF5 file.

    Parameters
    ----------
    file : h5py.File
        Open for writing.
    train_ids : ndarray
        uint64 train IDs of the file, in file order (padding excluded).
    seed : int
        Seed of the value formulas.
    run_first_train_id : int
        First train of the run; RUN values are the values at this train.
    format_version : str
    """

    def __init__(self, file: h5py.File, train_ids: np.ndarray, *, seed: int,
                 run_first_train_id: int, format_version: str):
        self.file = file
        self.train_ids = np.asarray(train_ids, dtype=np.uint64)
        self.seed = seed
        self.run_first_train_id = int(run_first_train_id)
        self.format_version = format_version
        self.data_source_ids: list[str] = []
        self.aux_source_ids: dict[str, list[str]] = {}
        self.index_groups: list[IndexGroup] = []

    @property
    def n_trains(self) -> int:
        """Number of trains of the file (padding excluded)."""
        return len(self.train_ids)

    def add_control(self, source: str, props: list[ControlProperty], *,
                    run_only: dict[str, object] | None = None,
                    with_data: bool = True) -> None:
        """Write CONTROL and RUN data of *source* and register its INDEX.

        ``run_only`` values go to RUN only (strings or numbers). With
        ``with_data=False`` the CONTROL group is empty and every count is 0
        (a source with run values only).
        """
        # Groups appear implicitly with their first dataset; create only empty ones.
        if not (with_data and props):
            self.file.require_group(f"CONTROL/{source}")
        if not (props or run_only):
            self.file.require_group(f"RUN/{source}")
        paths = []
        for prop in props:
            sub = prop.path.replace(".", "/")
            if with_data:
                base = f"CONTROL/{source}/{sub}"
                write_dataset(self.file, f"{base}/value", prop.values)
                write_dataset(self.file, f"{base}/timestamp", prop.timestamps)
                paths += [f"{base}/value", f"{base}/timestamp"]
                if prop.attrs:
                    set_attrs(self.file[base], prop.attrs)
            run_base = f"RUN/{source}/{sub}"
            write_dataset(self.file, f"{run_base}/value", prop.run_value)
            write_dataset(self.file, f"{run_base}/timestamp",
                          np.array([prop.run_timestamp], dtype=np.uint64))
            if prop.attrs:
                set_attrs(self.file[run_base], prop.attrs)
        for path, value in (run_only or {}).items():
            run_base = f"RUN/{source}/{path.replace('.', '/')}"
            write_dataset(self.file, f"{run_base}/value", np.array([value], dtype=_dtype_of(value)))
            write_dataset(self.file, f"{run_base}/timestamp",
                          np.array([self.run_timestamp()], dtype=np.uint64))
        count = np.full(self.n_trains, 1 if with_data else 0, dtype=np.uint64)
        self.data_source_ids.append(f"CONTROL/{source}")
        self._add_index("CONTROL", source, "", count, paths)

    def add_instrument(self, source: str, group: str, counts: np.ndarray,
                       keys: dict[str, InstrumentKey], *, section: str = "INSTRUMENT") -> None:
        """Write one index group of an instrument or auxiliary source.

        ``keys`` maps the key path below the group (``'image.data'`` for
        group ``'image'`` is given as ``'data'``) to its data, whose first
        axis has ``counts.sum()`` entries.
        """
        counts = np.asarray(counts, dtype=np.uint64)
        base = f"{section}/{source}/{group}"
        paths = []
        for sub, key in keys.items():
            path = f"{base}/{sub.replace('.', '/')}"
            write_dataset(self.file, path, key.data, key.storage)
            if key.attrs:
                set_attrs(self.file[path], key.attrs)
            paths.append(path)
        entry = f"{section}/{source}/{group}"
        if section == "INSTRUMENT":
            self.data_source_ids.append(entry)
        else:
            self.aux_source_ids.setdefault(section, []).append(entry)
        self._add_index(section, source, group, counts, paths)

    def run_timestamp(self) -> int:
        """Timestamp of RUN entries: the start of the run, 1 s before its first train."""
        return int(train_timestamps_ns(np.array([self.run_first_train_id]))[0]) - 1_000_000_000

    def _add_index(self, section: str, source: str, group: str,
                   count: np.ndarray, paths: list[str]) -> None:
        self.index_groups.append(IndexGroup(section, source, group,
                                            counts_to_first(count), count, paths))


def _dtype_of(value: object) -> np.dtype:
    if isinstance(value, str):
        return np.dtype(object)
    return np.asarray(value).dtype
