"""``DataCollection.write()`` and ``write_virtual()``: a selection as a new EuXFEL file.

Both write the same layout: ``INDEX/trainId`` (and ``INDEX/timestamp``,
``INDEX/flag``), ``INDEX/<source>[/<group>]/{first,count}`` rebuilt for the
selected trains, the selected keys under ``CONTROL/`` and ``INSTRUMENT/``,
``RUN/`` for CONTROL sources, legacy names as soft links, and ``METADATA`` in
format 1.0 (0.5 when the data is 0.5). :func:`write_selection` copies the
data, chunk by chunk; :func:`write_virtual_selection` maps it with virtual
datasets onto the original files (small index-like keys and strings are
copied).

The file is written under a temporary name beside the target and renamed
when complete, so the target is never half-written, and an input file of
the selection is never overwritten.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np

from .._version import __version__
from ..exceptions import ExtraCatalogError, MultiRunError
from .chunks import read_rows
from .virtual import virtual_layout

if TYPE_CHECKING:
    from .collection import DataCollection
    from .keydata import KeyData

__all__ = ["WriteError", "write_h5_atomically", "write_selection", "write_virtual_selection"]

#: Keys copied rather than mapped by write_virtual: small, read like an index.
COPIED_KEYS = frozenset({"image.pulseId", "image.cellId"})


class WriteError(ExtraCatalogError, OSError):
    """A selection could not be written (target, permissions, disk space)."""


def _check_target(dc: DataCollection, target: Path) -> None:
    inputs = {os.path.realpath(f.filename) for f in dc.files}
    if os.path.realpath(target) in inputs:
        raise WriteError(f"{target}: is one of the files the data is read from; "
                         "write to another path")
    if not target.parent.is_dir():
        raise WriteError(f"{target}: the directory {target.parent} does not exist")
    if not os.access(target.parent, os.W_OK):
        raise WriteError(f"{target}: the directory {target.parent} is not writable")


def write_h5_atomically(dc: DataCollection, target: str | os.PathLike,
                        fill: Callable[[h5py.File], None], **file_options: Any) -> None:
    """Run *fill* on a new HDF5 file, then rename it to *target* (replacing it).

    *dc* is the data being written: its files are never replaced.
    *file_options* go to :class:`h5py.File` (e.g. ``libver``).

    Raises
    ------
    WriteError
        The target is an input file, its directory is missing or not
        writable, or writing failed (nothing is left at the target).
    """
    target = Path(target).absolute()
    _check_target(dc, target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        with h5py.File(tmp, "w", **file_options) as f:
            fill(f)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException as err:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(err, OSError) and not isinstance(err, ExtraCatalogError):
            raise WriteError(f"{target}: could not be written ({err}); nothing was left "
                             "there. Check the free space and permissions.") from None
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class _Layout:
    """What goes into the file besides the data: sources, index, metadata."""

    def __init__(self, dc: DataCollection) -> None:
        self.dc = dc
        self.tids = np.asarray(dc.train_ids, dtype=np.uint64)
        self.source_ids: set[str] = set()
        self.indexes: dict[str, np.ndarray] = {}  # index path -> counts per train

    def data_sources(self) -> list[str]:
        """Canonical sources to write (legacy names become links)."""
        return sorted(self.dc.all_sources - self.dc.legacy_sources.keys())

    def record(self, kd: KeyData, keep: np.ndarray | None = None) -> None:
        """Note *kd*'s source list entry and per-train counts for INDEX.

        *keep* marks the entries written (all when None).
        """
        if kd.section == "CONTROL":
            self.source_ids.add(f"CONTROL/{kd.source}")
            index_path = kd.source
        else:
            self.source_ids.add(f"{kd.section}/{kd.source}/{kd.index_group}")
            index_path = f"{kd.source}/{kd.index_group}"
        if index_path not in self.indexes:
            counts = kd.data_counts(labelled=False).astype(np.uint64)
            if keep is not None:
                positions = np.searchsorted(self.tids, kd.train_id_coordinates()[keep])
                counts = np.bincount(positions, minlength=len(self.tids)).astype(np.uint64)
            self.indexes[index_path] = counts

    def add_empty_control(self, f: h5py.File, source: str) -> None:
        """A CONTROL source with RUN values only: an empty group, no entries."""
        f.require_group(f"CONTROL/{source}")
        self.source_ids.add(f"CONTROL/{source}")
        self.indexes[source] = np.zeros(len(self.tids), dtype=np.uint64)

    def write_index(self, f: h5py.File) -> None:
        f.create_dataset("INDEX/trainId", data=self.tids, dtype=np.uint64)
        stamps = self.dc.train_timestamps()
        if len(stamps) and not np.all(np.isnat(stamps)):
            f.create_dataset("INDEX/timestamp", data=stamps.astype(np.uint64))
        for path, counts in sorted(self.indexes.items()):
            first = np.zeros_like(counts)
            first[1:] = np.cumsum(counts)[:-1]
            f.create_dataset(f"INDEX/{path}/first", data=first, dtype=np.uint64)
            f.create_dataset(f"INDEX/{path}/count", data=counts, dtype=np.uint64)

    def write_legacy_links(self, f: h5py.File) -> None:
        for legacy, canonical in sorted(self.dc.legacy_sources.items()):
            if legacy not in self.dc.all_sources or canonical not in self.dc.all_sources:
                continue
            section = self.dc._sources_data[canonical].section
            f[f"{section}/{legacy}"] = h5py.SoftLink(f"/{section}/{canonical}")
            f[f"INDEX/{legacy}"] = h5py.SoftLink(f"/INDEX/{canonical}")
            for group in sorted(self.dc._sources_data[canonical].index_groups):
                self.source_ids.add(f"{section}/{legacy}/{group}")

    def write_metadata(self, f: h5py.File) -> None:
        try:
            meta = dict(self.dc.run_metadata())
        except MultiRunError:
            meta = {}
        ids = sorted(self.source_ids)
        if meta.get("dataFormatVersion", "1.0") == "0.5":
            _write_source_list(f.require_group("METADATA"), ids)
            return
        meta["dataFormatVersion"] = "1.0"  # 1.0 semantics for INDEX/flag
        _write_source_list(f.require_group("METADATA/dataSources"), ids)
        f.create_dataset("INDEX/flag", data=self._flags())
        for name, value in sorted(meta.items()):
            f[f"METADATA/{name}"] = [value.encode() if isinstance(value, str) else value]

    def _flags(self) -> np.ndarray:
        """1 for trains valid in any file of the selection, else 0 (format 1.0)."""
        flag = np.zeros(len(self.tids), dtype=np.int32)
        for fa in self.dc.files:
            flag[np.isin(self.tids, fa.valid_train_ids)] = 1
        return flag


def _write_source_list(group: h5py.Group, ids: list[str]) -> None:
    text = h5py.string_dtype()
    for name, values in (("dataSourceId", ids), ("root", [i.split("/", 1)[0] for i in ids]),
                         ("deviceId", [i.split("/", 1)[1] for i in ids])):
        group.create_dataset(name, data=np.array(values, dtype=object), dtype=text,
                             maxshape=(None,))


def _copy_run_group(dc: DataCollection, f: h5py.File, source: str) -> None:
    """RUN values of a CONTROL source, copied from the first file that has them."""
    from .chunks import open_checked

    for fa in dc[source].files:
        src = open_checked(fa)
        if f"RUN/{source}" in src:
            src.copy(src[f"RUN/{source}"], f.require_group("RUN"), name=source)
            return


def _attrs_target(f: h5py.File, kd: KeyData) -> h5py.HLObject:
    """Where Karabo attributes go: the property group for CONTROL, else the dataset."""
    ds = f[kd.hdf5_data_path]
    return ds.parent if kd.section == "CONTROL" else ds


def _create_like(f: h5py.File, kd: KeyData, n_rows: int) -> h5py.Dataset:
    info = kd.files[0].key_info(kd.source, kd.key)
    chunks = info.chunks if info.chunks and n_rows else None
    return f.create_dataset(
        kd.hdf5_data_path, shape=(n_rows, *kd.entry_shape), dtype=kd.dtype,
        maxshape=(None, *kd.entry_shape), chunks=chunks or (True if n_rows else None),
        compression=info.compression if chunks else None,
        compression_opts=info.compression_opts if chunks and info.compression else None,
        shuffle=bool(info.shuffle and chunks))


def _copy_key(f: h5py.File, kd: KeyData, keep: np.ndarray | None = None) -> None:
    """Copy the selected entries of one key (those *keep* marks), a chunk at a time."""
    ds = _create_like(f, kd, kd.shape[0] if keep is None else int(keep.sum()))
    cursor = entry = 0
    for chunk in kd._data_chunks_nonempty:
        n = chunk.total_count
        wanted = None if keep is None else keep[entry:entry + n]
        entry += n
        if wanted is not None and not wanted.any():
            continue
        rows = read_rows(chunk.file, chunk.dataset_path, chunk.first, n)
        if wanted is not None:
            rows = rows[wanted]
        ds[cursor:cursor + len(rows)] = rows
        cursor += len(rows)


def _map_key(f: h5py.File, kd: KeyData) -> None:
    """A virtual dataset over the selected entries in the original files."""
    f.create_virtual_dataset(kd.hdf5_data_path, virtual_layout(kd), fillvalue=None)


#: Entries to write of some (source, index group)s: a boolean array over the
#: entries of each key of the group, in train order.
RowMasks = dict[tuple[str, str], np.ndarray]


def _write(dc: DataCollection, f: h5py.File, virtual: bool,
           row_masks: RowMasks | None = None) -> None:
    layout = _Layout(dc)
    f.attrs["writer"] = f"extra_catalog {__version__}"
    for source in layout.data_sources():
        sd = dc[source]
        if sd.is_control and not dc.keys_for_source(source):
            layout.add_empty_control(f, source)  # RUN values only
        for key in sorted(dc.keys_for_source(source)):
            kd = sd[key]
            keep = (row_masks or {}).get((source, kd.index_group))
            if virtual and key not in COPIED_KEYS and kd.dtype.kind != "O":
                _map_key(f, kd)
            else:
                _copy_key(f, kd, keep)
            target = _attrs_target(f, kd)
            for name, value in kd.attributes().items():
                target.attrs[name] = value
            layout.record(kd, keep)
        if sd.is_control:
            _copy_run_group(dc, f, source)
        if virtual:
            f[f"{sd.section}/{source}"].attrs["source_files"] = sorted(
                fa.filename for fa in sd.files)
    layout.write_legacy_links(f)
    layout.write_index(f)
    layout.write_metadata(f)


def write_selection(dc: DataCollection, filename: str | os.PathLike,
                    row_masks: RowMasks | None = None) -> None:
    """Copy the selected sources, keys and trains of *dc* into a new EuXFEL file.

    *row_masks* keeps only some entries of some index groups, e.g. chosen
    detector frames (``{(source, 'image'): mask}``).
    """
    write_h5_atomically(dc, filename, lambda f: _write(dc, f, virtual=False,
                                                       row_masks=row_masks))


def write_virtual_selection(dc: DataCollection, filename: str | os.PathLike) -> None:
    """Write a EuXFEL file whose datasets are virtual views of *dc*'s files."""
    write_h5_atomically(dc, filename, lambda f: _write(dc, f, virtual=True))
