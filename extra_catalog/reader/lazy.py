"""Lazy dask arrays over KeyData chunks (dask is an optional dependency)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .chunks import read_rows

if TYPE_CHECKING:
    from .keydata import KeyData

__all__ = ["key_dask_array", "CHUNK_LIMIT_BYTES"]

#: Largest dask chunk made from one file chunk (as EXtra-data: 2 GB).
CHUNK_LIMIT_BYTES = 2 * 1024**3


def _import_dask_array() -> Any:
    try:
        import dask.array as da
    except ImportError:
        raise ImportError("dask_array() needs dask: install it with "
                          "`pip install 'dask[array]'`") from None
    return da


def key_dask_array(kd: KeyData, labelled: bool = False) -> Any:
    """A dask array of *kd*'s data, one or more dask chunks per file chunk.

    Nothing is read until the array is computed; each chunk reads a
    contiguous slice through a :class:`~extra_catalog.fileaccess.DatasetProxy`,
    so the handle cache decides which files stay open.
    """
    da = _import_dask_array()
    parts = []
    itemsize = kd.dtype.itemsize
    for chunk in kd._data_chunks_nonempty:
        n = chunk.total_count
        per_entry = itemsize * int(np.prod(kd.entry_shape, dtype=np.int64))
        rows = n
        while rows > 1 and rows * per_entry > CHUNK_LIMIT_BYTES:
            rows //= 2
        proxy = _SliceProxy(chunk.file.dset_proxy(chunk.dataset_path), chunk.first, n,
                            kd.dtype, kd.entry_shape)
        # Giving dask the meta array keeps it from slicing the data to learn
        # the type, which would open every file while the graph is built.
        meta = np.empty((0,) * (1 + len(kd.entry_shape)), dtype=kd.dtype)
        parts.append(da.from_array(proxy, chunks=(rows,) + kd.entry_shape, asarray=True,
                                   fancy=False, meta=meta))
    if parts:
        arr = da.concatenate(parts, axis=0)
    else:
        shape = (0,) + kd.entry_shape
        arr = da.zeros(shape, dtype=kd.dtype, chunks=shape)
    if not labelled:
        return arr
    import xarray

    dims = ["trainId"] + [f"dim_{i}" for i in range(arr.ndim - 1)]
    return xarray.DataArray(arr, dims=dims, coords={"trainId": kd.train_id_coordinates()})


class _SliceProxy:
    """Array-like view of rows ``[first, first + n)`` of a dataset proxy.

    dask only learns the chunk's own shape, so no dask graph depends on
    the whole dataset length (datasets may be padded beyond the INDEX).
    """

    def __init__(self, proxy: Any, first: int, n: int, dtype: np.dtype,
                 entry_shape: tuple[int, ...]) -> None:
        self.proxy = proxy
        self.first = first
        self.shape = (n,) + tuple(entry_shape)
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)

    def __getitem__(self, item: tuple[slice, ...]) -> np.ndarray:
        rows = item[0] if isinstance(item, tuple) else item
        start, stop, _ = rows.indices(self.shape[0])
        rest = item[1:] if isinstance(item, tuple) else ()
        if stop <= start:  # nothing to read: do not open the file for it
            return np.empty((0,) + self.shape[1:], dtype=self.dtype)[(slice(None),) + tuple(rest)]
        value = read_rows(self.proxy.file_access, self.proxy.path, self.first + start,
                          stop - start, rest=tuple(rest))
        if self.dtype.hasobject:
            from .keydata import decode_strings

            value = decode_strings(np.asarray(value))
        return value
