"""Fast reads of HDF5 structure with h5py's low-level API.

Extraction walks each source's links once (``H5Lvisit``, which does not
read object headers) and reads dataset properties from low-level ids; this
is several times faster than h5py's high-level ``visititems`` and per-key
lookups, which matters for data-aggregator files with thousands of keys.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import h5py
import numpy as np

from ..records import Scalar

__all__ = [
    "DatasetInfo",
    "visit_datasets",
    "to_scalar",
    "is_skip",
    "read_attrs",
    "read_array",
    "read_dataset",
]

_FILTER_NAMES = {
    h5py.h5z.FILTER_DEFLATE: "gzip",
    h5py.h5z.FILTER_SZIP: "szip",
    h5py.h5z.FILTER_LZF: "lzf",
    h5py.h5z.FILTER_SCALEOFFSET: "scaleoffset",
    h5py.h5z.FILTER_NBIT: "nbit",
}

Attrs = tuple[tuple[str, Scalar], ...]


@dataclass(frozen=True)
class DatasetInfo:
    """Properties of one dataset found by :func:`visit_datasets`.

    ``path`` is relative to the visited group, with ``/`` separators;
    ``attrs`` are the dataset's own attributes, ``parent_attrs`` those of
    its parent group (when asked for). ``content`` is the dataset's whole
    content when it was asked for (RUN values), else None.
    """

    path: str
    dtype: np.dtype
    shape: tuple[int, ...]
    chunks: tuple[int, ...] | None
    compression: str | None
    compression_opts: int | None
    shuffle: bool
    attrs: Attrs
    parent_attrs: Attrs
    content: np.ndarray | None = None


def _leaf_links(gid: Any, obj_name: bytes) -> list[bytes]:
    names: list[bytes] = []
    hard: list[bool] = []

    def collect(name: bytes, info: Any) -> None:
        names.append(name)
        hard.append(info.type == h5py.h5l.TYPE_HARD)

    gid.links.visit(collect, obj_name=obj_name, info=True)
    # Children follow their parent in visit order, so a link is a group
    # exactly when the next name continues its path.
    leaves = []
    for i, name in enumerate(names):
        if not hard[i]:
            continue  # soft links are legacy aliases, read via their target
        if i + 1 < len(names) and names[i + 1].startswith(name + b"/"):
            continue
        leaves.append(name)
    return leaves


def visit_datasets(
    section: h5py.Group, source: str, parent_attrs: bool = False, storage: bool = True,
    content: bool = False,
) -> list[DatasetInfo]:
    """Every dataset under ``section/source``, with its storage properties.

    Parameters
    ----------
    section : h5py.Group
        The section group (``CONTROL``, ``RUN``, ``INSTRUMENT``...).
    source : str
        Source name (may contain ``/``).
    parent_attrs : bool
        Also read the attributes of each dataset's parent group (CONTROL
        keys keep their Karabo attributes on the property group).
    storage : bool
        Read chunking, filters and attributes; without it (for RUN values)
        only dtype and shape are filled in.
    content : bool
        Also read each dataset's content (meant for tiny RUN datasets).
    """
    gid = section.id
    prefix = source.encode("utf-8", "surrogateescape")
    group_attrs: dict[bytes, Attrs] = {}
    out = []
    for leaf in _leaf_links(gid, prefix):
        full = prefix + b"/" + leaf
        try:
            dsid = h5py.h5d.open(gid, full)
        except (KeyError, ValueError, TypeError, OSError, RuntimeError):
            continue  # an empty group, not a dataset
        parent = leaf.rpartition(b"/")[0]
        pattrs: Attrs = ()
        if parent_attrs:
            if parent not in group_attrs:
                group_attrs[parent] = read_attrs(h5py.h5o.open(gid, prefix + b"/" + parent))
            pattrs = group_attrs[parent]
        path = leaf.decode("utf-8", "surrogateescape")
        if storage:
            info = _dataset_info(path, dsid, pattrs)
        else:
            shape = tuple(int(n) for n in dsid.shape)
            info = DatasetInfo(path, dsid.dtype, shape, None, None, None, False, (), ())
        if content:
            info = replace(info, content=read_dataset(dsid))
        out.append(info)
        # Close at once: HDF5 opens datasets several times slower while
        # many others are open.
        del dsid
    return out


def _dataset_info(path: str, dsid: Any, parent: Attrs) -> DatasetInfo:
    plist = dsid.get_create_plist()
    chunks = None
    compression = None
    opts = None
    shuffle = False
    if plist.get_layout() == h5py.h5d.CHUNKED:
        chunks = tuple(int(c) for c in plist.get_chunk())
    for i in range(plist.get_nfilters()):
        code, _flags, values, name = plist.get_filter(i)
        if code == h5py.h5z.FILTER_SHUFFLE:
            shuffle = True
        elif code == h5py.h5z.FILTER_FLETCHER32:
            continue
        elif compression is None:
            compression = _FILTER_NAMES.get(code) or (name.decode() if name else str(code))
            if code == h5py.h5z.FILTER_DEFLATE and values:
                opts = int(values[0])
    return DatasetInfo(
        path=path,
        dtype=dsid.dtype,
        shape=tuple(int(n) for n in dsid.shape),
        chunks=chunks,
        compression=compression,
        compression_opts=opts,
        shuffle=shuffle,
        attrs=read_attrs(dsid),
        parent_attrs=parent,
    )


def read_attrs(obj_id: Any) -> Attrs:
    """Scalar attributes of an HDF5 object (arrays of >1 value are skipped)."""
    if not h5py.h5a.get_num_attrs(obj_id):
        return ()
    names: list[bytes] = []
    h5py.h5a.iterate(obj_id, names.append)
    out: list[tuple[str, Scalar]] = []
    for name in names:
        aid = h5py.h5a.open(obj_id, name)
        shape = aid.shape
        if shape is None:  # a null dataspace holds no value
            continue
        arr = np.empty(shape, dtype=aid.dtype)
        aid.read(arr)
        scalar = to_scalar(arr)
        if scalar is not _SKIP:
            out.append((name.decode("utf-8", "surrogateescape"), scalar))  # type: ignore[arg-type]
    return tuple(out)


_SKIP = object()


def to_scalar(value: Any) -> Scalar | object:
    """A plain Python scalar for *value*, or a marker object to skip it.

    Bytes become str (UTF-8, ``surrogateescape``); numpy scalars and
    one-element arrays become Python scalars.
    """
    if isinstance(value, np.ndarray):
        if value.size != 1 or value.dtype.fields is not None:
            return _SKIP
        value = value.reshape(()).item() if value.dtype.kind != "O" else value.flat[0]
    elif isinstance(value, np.generic):
        if isinstance(value, np.void):
            return _SKIP
        value = value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return _SKIP


def is_skip(value: object) -> bool:
    """Whether :func:`to_scalar` refused *value*."""
    return value is _SKIP


_MEMORY_TYPES: dict[tuple[np.dtype, str], Any] = {}


def _memory_type(dtype: np.dtype) -> Any:
    # Building the HDF5 memory type costs more than reading a tiny dataset,
    # and extraction reads thousands of them with a handful of dtypes.
    key = (dtype, repr(dtype.metadata))
    mtype = _MEMORY_TYPES.get(key)
    if mtype is None:
        mtype = _MEMORY_TYPES[key] = h5py.h5t.py_create(dtype)
    return mtype


def read_dataset(dsid: Any) -> np.ndarray:
    """The whole content of an open low-level dataset."""
    dtype = dsid.dtype
    arr = np.empty(dsid.shape, dtype=dtype)
    if arr.size:
        mtype = _memory_type(dtype) if dtype.fields is None else None
        dsid.read(h5py.h5s.ALL, h5py.h5s.ALL, arr, mtype)
    return arr


def read_array(group: h5py.Group, path: str) -> np.ndarray | None:
    """The whole content of dataset *path* in *group*, None if absent."""
    try:
        dsid = h5py.h5d.open(group.id, path.encode("utf-8", "surrogateescape"))
    except (KeyError, ValueError, TypeError, OSError, RuntimeError):
        return None
    return read_dataset(dsid)
