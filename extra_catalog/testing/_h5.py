"""Fast HDF5 dataset writing for the generator.

A data-aggregator file has thousands of tiny datasets; h5py's high-level
``create_dataset`` costs about three times as much per dataset as the
low-level calls used here, which matters for 500-file benchmark runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import h5py
import numpy as np
from h5py import h5d, h5p, h5s, h5t

__all__ = ["Storage", "CONTIGUOUS", "write_dataset", "write_strings", "set_attrs"]

#: vlen UTF-8 strings, as Karabo string properties are stored.
STRING_DTYPE = h5py.string_dtype("utf-8")
_STRING_TID = h5t.py_create(STRING_DTYPE, logical=True)


@dataclass(frozen=True)
class Storage:
    """How a dataset is laid out on disk.

    Attributes
    ----------
    chunks : tuple of int or None
        Chunk shape; ``None`` for contiguous storage.
    compression : {'gzip', None}
        Deflate filter (``'gzip'`` is HDF5's name for deflate).
    level : int
        Deflate level.
    shuffle : bool
        Apply the byte-shuffle filter before deflate.
    """

    chunks: tuple[int, ...] | None = None
    compression: str | None = None
    level: int = 1
    shuffle: bool = False


CONTIGUOUS = Storage()


def _lcpl() -> h5p.PropLCID:
    lcpl = h5p.create(h5p.LINK_CREATE)
    lcpl.set_create_intermediate_group(True)
    lcpl.set_char_encoding(h5t.CSET_UTF8)
    return lcpl


_LCPL = _lcpl()


def _plain_dcpl() -> h5p.PropDCID:
    dcpl = h5p.create(h5p.DATASET_CREATE)
    # HDF5 stamps object headers with the creation time by default, which
    # would make files written a second apart differ byte for byte.
    dcpl.set_obj_track_times(False)
    return dcpl


_PLAIN_DCPL = _plain_dcpl()


def _dcpl(shape: tuple[int, ...], storage: Storage) -> h5p.PropDCID:
    dcpl = _plain_dcpl()
    if storage.chunks is not None:
        # HDF5 rejects chunks larger than a fixed-size dimension.
        chunks = tuple(max(1, min(c, s)) if i else max(1, c)
                       for i, (c, s) in enumerate(zip(storage.chunks, shape)))
        dcpl.set_chunk(chunks)
        if storage.shuffle:
            dcpl.set_shuffle()
        if storage.compression == "gzip":
            dcpl.set_deflate(storage.level)
        elif storage.compression is not None:
            raise ValueError(f"unsupported compression {storage.compression!r}")
    return dcpl


_TYPES: dict[np.dtype, h5t.TypeID] = {}


def _type_id(dtype: np.dtype) -> h5t.TypeID:
    tid = _TYPES.get(dtype)
    if tid is None:
        tid = _TYPES[dtype] = h5t.py_create(dtype)
    return tid


def write_dataset(file: h5py.File, path: str, data: np.ndarray,
                  storage: Storage = CONTIGUOUS) -> None:
    """Create dataset *path* (intermediate groups included) holding *data*.

    Chunked datasets are extensible along their first axis, as DAQ files are.
    """
    data = np.ascontiguousarray(data)
    if data.dtype.kind in "OUS":
        write_strings(file, path, data)
        return
    shape = data.shape
    if storage.chunks is not None:
        space = h5s.create_simple(shape, (h5s.UNLIMITED,) + shape[1:])
        dcpl = _dcpl(shape, storage)
    else:
        space, dcpl = h5s.create_simple(shape), _PLAIN_DCPL
    dset = h5d.create(file.id, path.encode(), _type_id(data.dtype), space, dcpl=dcpl, lcpl=_LCPL)
    if data.size:
        dset.write(h5s.ALL, h5s.ALL, data)


def write_strings(file: h5py.File, path: str, values: np.ndarray | list[str]) -> None:
    """Create a vlen UTF-8 string dataset (entries may be str or bytes)."""
    arr = np.asarray(values, dtype=STRING_DTYPE)
    dset = h5d.create(file.id, path.encode(), _STRING_TID, h5s.create_simple(arr.shape),
                      dcpl=_PLAIN_DCPL, lcpl=_LCPL)
    if arr.size:
        # Without an explicit memory type h5py converts str and bytes alike.
        dset.write(h5s.ALL, h5s.ALL, arr)


def set_attrs(obj: h5py.Group | h5py.Dataset, attrs: dict[str, object]) -> None:
    """Set HDF5 attributes; Python strings become vlen UTF-8 strings."""
    for key, value in attrs.items():
        obj.attrs[key] = value
