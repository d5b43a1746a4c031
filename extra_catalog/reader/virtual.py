"""A virtual HDF5 dataset joining one key's selected data across sequence files."""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING

import h5py

from ..exceptions import ExtraCatalogError

if TYPE_CHECKING:
    from .keydata import KeyData

__all__ = ["virtual_dataset", "virtual_layout"]


def virtual_dataset(kd: KeyData, filename: str | os.PathLike | None = None) -> h5py.Dataset:
    """Write a virtual dataset for *kd* and return it, opened read-only.

    The virtual dataset maps, in train order, the rows of the selected
    trains in the original files; no data is copied. Its layout comes from
    the INDEX offsets the reader already holds, so only the new file is
    written here.

    Parameters
    ----------
    kd : KeyData
    filename : path, optional
        Where to write it; default a new temporary ``*-karabo-data-vds.h5``
        file (left for the caller to delete).

    Raises
    ------
    ExtraCatalogError
        Variable-length (string) data, which HDF5 cannot map virtually.
    """
    if kd.dtype.kind == "O":
        raise ExtraCatalogError(f"{kd.source} {kd.key}: variable-length data (strings) cannot "
                                "be mapped into a virtual dataset; read it with .ndarray()")
    if filename is None:
        fd, filename = tempfile.mkstemp(suffix="-karabo-data-vds.h5")
        os.close(fd)
    name = kd.hdf5_data_path
    with h5py.File(filename, "w") as f:
        f.create_virtual_dataset(name, virtual_layout(kd), fillvalue=None)
    return h5py.File(filename, "r")[name]


def virtual_layout(kd: KeyData) -> h5py.VirtualLayout:
    """The selected rows of *kd* in the original files, in train order, as a layout."""
    layout = h5py.VirtualLayout(shape=kd.shape, dtype=kd.dtype)
    pos = 0
    for chunk in kd._data_chunks_nonempty:
        info = chunk.file.key_info(kd.source, kd.key)
        source = h5py.VirtualSource(chunk.file.filename, chunk.dataset_path,
                                    shape=(info.length, *info.entry_shape), dtype=kd.dtype)
        n = chunk.total_count
        layout[pos:pos + n] = source[chunk.slice]
        pos += n
    return layout
