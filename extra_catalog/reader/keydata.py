"""KeyData: the data of one key of one source, for a selection of trains."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from typing import Any

import numpy as np

from ..exceptions import MultiRunError, NoDataError, TrainIDError
from ..fileaccess import FileAccess
from .chunks import (DataChunk, find_chunks, find_train, read_chunks, read_rows, roi_shape,
                     trains_files_index)
from .selection import select_train_ids, split_positions

__all__ = ["KeyData"]

_NUMBER_TYPES = (np.number, np.bool_)


def as_tids(train_ids: Any) -> np.ndarray:
    """Train IDs as a read-only uint64 array."""
    if (isinstance(train_ids, np.ndarray) and train_ids.dtype == np.uint64
            and train_ids.ndim == 1 and not train_ids.flags.writeable):
        return train_ids  # (shared by a collection's sources)
    arr = np.asarray(train_ids if len(train_ids) else [], dtype=np.uint64)
    arr.flags.writeable = False
    return arr


def only_files_with(files: Sequence[FileAccess], tids: np.ndarray,
                    inc_suspect: bool) -> list[FileAccess]:
    """Files holding any of *tids*; the first file if none does (for keys, dtypes...)."""
    tids = np.asarray(tids, dtype=np.uint64)
    candidates = files
    if len(tids) and len(files) > 1:
        # Most files of a source hold none of a few trains: their train ID
        # ranges (known without decoding the IDs) rule them out.
        lo, hi = int(tids.min()), int(tids.max())
        candidates = [f for f in files
                      if (r := f._train_range[inc_suspect])[0] <= hi and r[1] >= lo]
    kept = [f for f in candidates if f.has_train_ids(tids, inc_suspect)]
    return kept or list(files[:1])


def decode_strings(arr: np.ndarray) -> np.ndarray:
    """Object arrays of bytes (HDF5 strings) as object arrays of str."""
    flat = [x.decode("utf-8", "surrogateescape") if isinstance(x, bytes) else x
            for x in arr.flat]
    out = np.empty(arr.shape, dtype=object)
    out.reshape(-1)[:] = flat
    return out


class KeyData:
    """Data for one key of one source.

    Don't create this directly; get it from ``run[source, key]`` or
    ``run[source][key]``.

    Attributes
    ----------
    source, key : str
    train_ids : list of int
        Selected train IDs, including trains without data for this key.
    files : list of FileAccess
        Files holding the source for the selected trains.
    section : str
        ``'CONTROL'``, ``'INSTRUMENT'``, ``'REDUCTION'`` or ``'ERRATA'``.
    dtype : numpy.dtype
    entry_shape : tuple of int
        Shape of one entry.
    ndim : int
        ``len(entry_shape) + 1``.
    """

    __iter__ = None  # a KeyData is not a sequence of trains: use .trains()

    def __init__(self, source: str, key: str, *, train_ids: Any, files: Sequence[FileAccess],
                 section: str, dtype: np.dtype, eshape: tuple[int, ...],
                 inc_suspect_trains: bool = True, is_single_run: bool = False) -> None:
        self.source = source
        self.key = key
        self._tids = as_tids(train_ids)
        self.files: list[FileAccess] = list(files)
        self.section = section
        self.dtype = np.dtype(dtype)
        self.entry_shape = tuple(eshape)
        self.ndim = len(self.entry_shape) + 1
        self.inc_suspect_trains = inc_suspect_trains
        self.is_single_run = is_single_run

    @cached_property
    def train_ids(self) -> list[np.uint64]:
        """Selected train IDs (a list of numpy.uint64, as in EXtra-data)."""
        return list(self._tids)

    def __repr__(self) -> str:
        section = "" if self.section in ("CONTROL", "INSTRUMENT") else f"section={self.section} "
        return (f"<extra_data.KeyData {section}source={self.source!r} key={self.key!r} "
                f"for {len(self._tids)} trains>")

    def _derive(self, tids: np.ndarray, files: Sequence[FileAccess] | None = None) -> KeyData:
        if files is None:
            files = only_files_with(self.files, tids, self.inc_suspect_trains)
        return KeyData(self.source, self.key, train_ids=tids, files=files or self.files[:1],
                       section=self.section, dtype=self.dtype, eshape=self.entry_shape,
                       inc_suspect_trains=self.inc_suspect_trains,
                       is_single_run=self.is_single_run)

    # ---- what the key is ---------------------------------------------------------

    is_control = property(lambda self: self.section == "CONTROL",
                          doc="Whether the key belongs to a CONTROL source.")
    is_instrument = property(lambda self: self.section == "INSTRUMENT",
                             doc="Whether the key belongs to an INSTRUMENT source.")
    is_reduction = property(lambda self: self.section == "REDUCTION",
                            doc="Whether the key belongs to a REDUCTION source.")
    is_errata = property(lambda self: self.section == "ERRATA",
                         doc="Whether the key belongs to an ERRATA source.")
    is_auxiliary = property(lambda self: self.section in ("REDUCTION", "ERRATA"),
                            doc="Whether the key belongs to an auxiliary source.")

    @property
    def index_group(self) -> str:
        """The INDEX group of the key: ``''`` for CONTROL, else its first part."""
        return "" if self.is_control else self.key.partition(".")[0]

    @property
    def hdf5_data_path(self) -> str:
        """Path of the key's dataset in each file."""
        return f"/{self.section}/{self.source}/{self.key.replace('.', '/')}"

    @cached_property
    def _data_chunks(self) -> list[DataChunk]:
        return find_chunks(self.files, self.source, self.index_group, self.key, self._tids,
                           self.inc_suspect_trains)

    @property
    def _data_chunks_nonempty(self) -> list[DataChunk]:
        return [c for c in self._data_chunks if c.total_count]

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of all the selected data, like a numpy array's."""
        return (sum(c.total_count for c in self._data_chunks),) + self.entry_shape

    @property
    def nbytes(self) -> int:
        """Bytes the selected data takes in memory."""
        return int(self.dtype.itemsize * np.prod(self.shape, dtype=np.int64))

    @property
    def size_mb(self) -> float:
        """Size of the selected data in megabytes (10**6 bytes)."""
        return self.nbytes / 1e6

    @property
    def size_gb(self) -> float:
        """Size of the selected data in gigabytes (10**9 bytes)."""
        return self.nbytes / 1e9

    def attributes(self) -> dict[str, Any]:
        """Karabo attributes of the key (CONTROL: the property group's merged in)."""
        return dict(self.files[0].key_info(self.source, self.key).attrs)

    @property
    def units(self) -> str | None:
        """Unit symbol with its prefix, e.g. ``'μJ'``; None when not recorded."""
        attrs = self.attributes()
        base = attrs.get("unitSymbol")
        if base is None:
            return None
        prefix = attrs.get("metricPrefixSymbol") or ""
        return ("μ" if prefix == "u" else str(prefix)) + str(base)

    @property
    def units_name(self) -> str | None:
        """Unit name with its prefix, e.g. ``'microjoule'``; None when not recorded."""
        attrs = self.attributes()
        base = attrs.get("unitName")
        if base is None:
            return None
        return str(attrs.get("metricPrefixName") or "") + str(base)

    @property
    def source_file_paths(self) -> list[Any]:
        """Paths of the files holding the selected data."""
        from pathlib import Path

        seen = dict.fromkeys(c.file.filename for c in self._data_chunks)
        return [Path(p) for p in seen]

    # ---- train selection ----------------------------------------------------------

    def select_trains(self, trains: Any) -> KeyData:
        """A new KeyData for a subset of the trains (any train selector).

        Also available as ``kd[selector]``.
        """
        return self._derive(select_train_ids(self._tids, trains, stacklevel=3))

    def __getitem__(self, item: Any) -> KeyData:
        return self.select_trains(item)

    def split_trains(self, parts: int | None = None,
                     trains_per_part: int | None = None) -> Iterator[KeyData]:
        """Split into consecutive parts with similar numbers of trains.

        Trains count whether or not they have data, so different keys split
        into matching parts. See :meth:`DataCollection.split_trains`.
        """
        owners = trains_files_index(self._tids, self.files, self.inc_suspect_trains)
        for sl in split_positions(len(self._tids), parts, trains_per_part):
            files = {f for f in owners[sl] if f is not None}
            yield self._derive(self._tids[sl], sorted(files, key=lambda f: f.filename))

    def drop_empty_trains(self) -> KeyData:
        """A new KeyData without the trains that have no data for this key."""
        return self._derive(self._tids[self.data_counts(labelled=False) > 0])

    # ---- counts and coordinates ----------------------------------------------------

    def data_counts(self, labelled: bool = True) -> Any:
        """Number of entries in each selected train.

        Returns a pandas Series indexed by train ID when *labelled*, else a
        uint64 array matching :attr:`train_ids`; 0 for trains without data.
        """
        res = np.zeros(len(self._tids), dtype=np.uint64)
        for chunk in self._data_chunks:
            pos = np.searchsorted(self._tids, chunk.train_ids)
            res[pos] = chunk.counts
        if labelled:
            import pandas as pd

            # As EXtra-data: int64 counts on an unnamed index of train IDs.
            return pd.Series(res.astype(np.int64), index=pd.Index(self._tids))
        return res

    def train_id_coordinates(self) -> np.ndarray:
        """The train ID of each entry :meth:`ndarray` returns (uint64)."""
        if not self._data_chunks:
            return np.zeros(0, dtype=np.uint64)
        return np.concatenate([np.repeat(c.train_ids, c.counts.astype(np.intp))
                               for c in self._data_chunks])

    def train_index_bounds(self, labelled: bool = False) -> Any:
        """Where each selected train's entries are in :meth:`ndarray`'s result.

        Returns ``(start, stop)`` arrays matching :attr:`train_ids`, or a
        DataFrame with ``start`` and ``stop`` columns indexed by train ID
        when *labelled*. Trains without data have ``start == stop``.
        """
        counts = self.data_counts(labelled=False)
        stop = np.cumsum(counts, dtype=np.uint64)
        start = stop - counts
        if labelled:
            import pandas as pd

            return pd.DataFrame({"start": start.astype(np.int64), "stop": stop.astype(np.int64)},
                                index=pd.Index(self._tids))
        return start, stop

    # ---- loading data ----------------------------------------------------------------

    def ndarray(self, roi: Any = (), out: np.ndarray | None = None) -> np.ndarray:
        """Load the selected data as a numpy array, entries in train order.

        Parameters
        ----------
        roi : index expression, optional
            Applied to every entry, e.g. ``np.s_[:10, 20:40]`` for a part of
            each image.
        out : numpy.ndarray, optional
            Array to fill; must have exactly the resulting shape.

        Raises
        ------
        ValueError
            *out* has the wrong shape.
        """
        if not isinstance(roi, tuple):
            roi = (roi,)
        shape = self.shape[:1] + roi_shape(self.entry_shape, roi)
        if out is None:
            out = np.empty(shape, dtype=self.dtype)
        elif out.shape != shape:
            raise ValueError(f"requires output array of shape {shape}")
        read_chunks(self._data_chunks, out, roi)
        if out.dtype.hasobject:
            out = decode_strings(out)
        return out

    def _default_name(self, sep: str) -> str:
        name = f"{self.source}{sep}{self.key}"
        if self.is_control and name.endswith(".value"):
            name = name[:-6]
        return name

    def xarray(self, extra_dims: Sequence[str] | None = None, roi: Any = (),
               name: str | None = None, extra_coords: Any = None) -> Any:
        """Load the selected data as a labelled xarray object.

        The first dimension is ``trainId`` (a train ID per entry, repeated
        for several entries per train). Structured data gives an
        ``xarray.Dataset`` with one variable per field.

        Parameters
        ----------
        extra_dims : list of str, optional
            Names of the entry dimensions (default ``dim_0``, ``dim_1``...).
        roi : index expression, optional
            As for :meth:`ndarray`.
        name : str, optional
            Array name; default ``source.key`` (CONTROL: without ``.value``).
        extra_coords : bool or dict, optional
            True adds integer coordinates for the entry dimensions, matching
            *roi* (a dimension dropped by an integer index gets none); a dict
            is passed to xarray as further coordinates.
        """
        import xarray

        if not isinstance(roi, tuple):
            roi = (roi,)
        arr = self.ndarray(roi=roi)
        axes = self._entry_axes(roi, extra_dims)
        if extra_dims is not None or extra_coords is True:
            dims = ["trainId"] + [name for name, values in axes if np.ndim(values)]
        else:  # unnamed dimensions are numbered after the roi, as in EXtra-data
            dims = ["trainId"] + [f"dim_{i}" for i in range(arr.ndim - 1)]
        coords: dict[str, Any] = {"trainId": self.train_id_coordinates()}
        if isinstance(extra_coords, dict):
            coords.update(extra_coords)
        elif extra_dims is not None or extra_coords is True:
            # As EXtra-data: naming the dimensions gives them integer coordinates
            # matching the roi; an axis taken by an integer keeps a scalar one.
            coords.update(dict(axes))
        attrs = {}
        units = self.units
        if units:
            attrs["units"] = units
        if arr.dtype.names is not None:
            return xarray.Dataset({f: (dims, arr[f]) for f in arr.dtype.names},
                                  coords=coords, attrs=attrs)
        return xarray.DataArray(arr, dims=dims, coords=coords, attrs=attrs,
                                name=self._default_name(".") if name is None else name)

    def _entry_axes(self, roi: tuple[Any, ...],
                    extra_dims: Sequence[str] | None) -> list[tuple[str, Any]]:
        """(name, positions) of each entry axis after *roi*; scalar positions = dropped axis."""
        ndim = len(self.entry_shape)
        names = list(extra_dims) if extra_dims is not None else [f"dim_{i}" for i in range(ndim)]
        if len(names) != ndim:
            raise IndexError(f"extra_dims must name all {ndim} entry dimensions of "
                             f"{self.source} {self.key} (shape {self.entry_shape}), got {names}")
        if any(part is Ellipsis for part in roi):
            i = roi.index(Ellipsis)
            roi = roi[:i] + (slice(None),) * (ndim - len(roi) + 1) + roi[i + 1:]
        full = list(roi) + [slice(None)] * (ndim - len(roi))
        return [(name, np.arange(size)[part])
                for name, size, part in zip(names, self.entry_shape, full)]

    def series(self) -> Any:
        """Load 1D data as a pandas Series indexed by train ID.

        Raises
        ------
        TypeError
            The data has more than one dimension.
        """
        import pandas as pd

        if self.ndim > 1:
            raise TypeError("pandas Series are only available for 1D data")
        index = pd.Index(self.train_id_coordinates(), name="trainId")
        return pd.Series(self.ndarray(), name=self._default_name("/"), index=index)

    def dask_array(self, labelled: bool = False) -> Any:
        """The selected data as a lazy dask array (see :mod:`.lazy`)."""
        from .lazy import key_dask_array

        return key_dask_array(self, labelled)

    def as_single_value(self, rtol: float = 1e-5, atol: float = 0.0,
                        reduce_by: str | Callable[[np.ndarray], Any] | None = None) -> Any:
        """Reduce the data to one value, checking every entry is close to it.

        Parameters
        ----------
        rtol, atol : float
            Tolerances as in :func:`numpy.allclose`.
        reduce_by : str or callable, optional
            ``'median'`` (default) or another numpy function name, ``'first'``,
            or a callable taking the data. Not allowed for strings, which
            must all be equal instead.

        Raises
        ------
        NoDataError
            There is no data.
        ValueError
            The data is not within tolerance, or strings differ.
        TypeError
            *reduce_by* given for non-numeric data.
        """
        data = self.ndarray()
        if len(data) == 0:
            raise NoDataError(self.source, self.key)
        if not np.issubdtype(data.dtype, np.number):
            if reduce_by is not None:
                raise TypeError("custom reduce method not supported for non-numeric type")
            unique = np.unique(data, axis=None)
            if len(unique) > 1:
                raise ValueError(f"str values are not unique: {unique}")
            return unique[0]
        value = _reduce(data, "median" if reduce_by is None else reduce_by)
        if not np.allclose(data, value, rtol=rtol, atol=atol):
            adev = np.max(np.abs(data - value))
            rdev = np.max(np.abs(adev / value))
            raise ValueError(f"data values are not within tolerance "
                             f"(absolute: {adev:.3g}, relative: {rdev:.3g})")
        return value

    # ---- RUN values --------------------------------------------------------------------

    def run_value(self, *, allow_multi_run: bool = False) -> Any:
        """The RUN-section value of this key (start-of-run snapshot).

        Raises
        ------
        MultiRunError
            The data spans several runs (unless *allow_multi_run*).
        PropertyNameError
            The source has no RUN value for this key.
        """
        from .sourcedata import run_value_of

        if not (self.is_single_run or allow_multi_run):
            raise MultiRunError()
        return run_value_of(self.files[0], self.source, self.key, self.section)

    # ---- by train ----------------------------------------------------------------------

    def _train_data(self, fa: FileAccess, ix: int, keep_dims: bool) -> np.ndarray:
        firsts, counts = fa.get_index(self.source, self.index_group)
        first, count = int(firsts[ix]), int(counts[ix])
        # Raw values, as EXtra-data gives them per train: strings stay bytes.
        return read_rows(fa, fa.dataset_path(self.source, self.key), first, count,
                         single=count == 1 and not keep_dims)

    def train_from_id(self, tid: int, keep_dims: bool = False) -> Any:
        """``(train_id, data)`` for one train.

        The first axis is dropped for a single entry unless *keep_dims*.
        As in EXtra-data, a train selected but in no file of the source
        gives a bare empty array rather than a tuple.

        Raises
        ------
        TrainIDError
            The train is not selected.
        """
        if tid not in self._tid_set:
            raise TrainIDError(tid)
        fa, ix = find_train(self.files, tid, self.inc_suspect_trains)
        if fa is None:
            return np.empty((0,) + self.entry_shape, dtype=self.dtype)
        return tid, self._train_data(fa, ix, keep_dims)

    @cached_property
    def _tid_set(self) -> frozenset[int]:
        return frozenset(self.train_ids)

    def train_from_index(self, i: int, keep_dims: bool = False) -> Any:
        """As :meth:`train_from_id` for the *i*-th selected train (IndexError if none)."""
        return self.train_from_id(self.train_ids[i], keep_dims=keep_dims)

    def trains(self, keep_dims: bool = False, include_empty: bool = False) -> Iterator[Any]:
        """Iterate ``(train_id, data)`` over trains with data, in train order.

        A single entry loses its first axis unless *keep_dims*. Trains
        without data are skipped, unless *include_empty*: then they give
        ``None`` (a zero-length array with *keep_dims*).
        """
        empty = (np.zeros((0,) + self.entry_shape, dtype=self.dtype)
                 if keep_dims and include_empty else None)
        for chunk in self._data_chunks:
            if not chunk.total_count and not include_empty:
                continue
            block = self._read_chunk(chunk)
            offset = 0
            for tid, count in zip(chunk.train_ids, chunk.counts.tolist()):
                if count > 1 or (count == 1 and keep_dims):
                    yield tid, block[offset:offset + count]
                elif count == 1:
                    yield tid, block[offset]
                elif include_empty:
                    yield tid, empty
                offset += count

    def _read_chunk(self, chunk: DataChunk) -> np.ndarray:
        """The chunk's rows as stored (strings as bytes, as EXtra-data's trains())."""
        out = np.empty((chunk.total_count,) + self.entry_shape, dtype=self.dtype)
        read_chunks([chunk], out, ())
        return out

    # ---- combining ---------------------------------------------------------------------

    def union(self, *others: KeyData) -> KeyData:
        """Combine this with KeyData objects for the same source and key (e.g. other runs).

        Raises
        ------
        ValueError
            Different sources or keys.
        """
        from .chunks import same_run

        if len({(kd.source, kd.key) for kd in (self,) + others}) > 1:
            raise ValueError("Cannot use KeyData.union() with different keys")
        tids = np.unique(np.concatenate([kd._tids for kd in (self,) + others]))
        files = {f for kd in (self,) + others for f in kd.files}
        merged = self._derive(tids, sorted(files, key=lambda f: f.filename))
        merged.is_single_run = _same_run_keys(self, *others, same_run=same_run)
        return merged

    __or__ = union

    def __ior__(self, other: KeyData) -> KeyData:
        return self.union(other)


def _same_run_keys(*kds: KeyData, same_run: Callable[..., bool]) -> bool:
    from .sourcedata import _MetaView

    return same_run(*(_MetaView(kd.files, kd.is_single_run) for kd in kds))


def _reduce(data: np.ndarray, reduce_by: str | Callable[[np.ndarray], Any]) -> Any:
    if callable(reduce_by):
        return reduce_by(data)
    if reduce_by == "first":
        return data[0]
    if isinstance(reduce_by, str) and hasattr(np, reduce_by):
        return getattr(np, reduce_by)(data, axis=0)
    raise ValueError('invalid reduction method (may be callable, global numpy symbol or "first")')

