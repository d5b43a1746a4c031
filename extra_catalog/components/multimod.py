"""One key across every module of a detector: ``det[key]``.

The result has the module axis first, then one entry per train (or per
frame for pulse-resolved data, see :mod:`.xtdf`). Missing modules and
trains are filled; modules are read with one contiguous read per piece of
file (:mod:`.alignment`), and a dask array reads each group of trains in
its own task.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from ..reader.chunks import roi_shape
from .alignment import Piece, out_array, plan_module, read_pieces, slot_starts
from .lazy import pieces_dask_array

if TYPE_CHECKING:
    from ..reader.keydata import KeyData
    from .base import MultimodDetectorBase

__all__ = ["MultimodKeyData", "DetectorMaskedKeyData"]


class MultimodKeyData:
    """Data of one key for all selected modules of a detector.

    Get it from ``det[key]``. It is not iterable; use :meth:`ndarray`,
    :meth:`xarray` or :meth:`dask_array`, or select trains first.
    """

    __iter__ = None

    def __init__(self, det: MultimodDetectorBase, key: str) -> None:
        self.det = det
        self.key = key
        self.modno_to_keydata: dict[int, KeyData] = det._module_keydata(key)

    def _init_kwargs(self) -> dict[str, Any]:
        return {"det": self.det, "key": self.key}

    # ---- shape and labels ------------------------------------------------------------------

    @property
    def train_ids(self) -> list[np.uint64]:
        """Selected train IDs."""
        return self.det.train_ids

    def train_id_coordinates(self) -> np.ndarray:
        """The train ID of each entry along the second axis."""
        return np.asarray(self.det.train_ids, dtype=np.uint64)

    @property
    def modules(self) -> list[int]:
        """Module numbers, in the order of the module axis."""
        return sorted(self.modno_to_keydata)

    @property
    def _eg_keydata(self) -> KeyData:
        return self.modno_to_keydata[min(self.modno_to_keydata)]

    @property
    def _entry_shape(self) -> tuple[int, ...]:
        """Shape of one entry in the result."""
        return self._eg_keydata.entry_shape

    @property
    def ndim(self) -> int:
        """Dimensions of the result (module and train axes included)."""
        return len(self._entry_shape) + 2

    def _n_entries(self) -> int:
        return len(self.det.train_ids)

    def buffer_shape(self, module_gaps: bool = False, roi: Any = ()) -> tuple[int, ...]:
        """Shape of the result.

        *module_gaps* makes room for every module of the detector, including
        those missing from the data; *roi* indexes each entry.
        """
        if not isinstance(roi, tuple):
            roi = (roi,)
        n_mod = self.det.n_modules if module_gaps else len(self.modno_to_keydata)
        return (n_mod, self._n_entries()) + roi_shape(self._entry_shape, roi)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the result without module gaps or roi."""
        return self.buffer_shape()

    @property
    def dimensions(self) -> list[str]:
        """Dimension names of the labelled result."""
        return ["module", "trainId"] + [f"dim_{i}" for i in range(self.ndim - 2)]

    @property
    def dtype(self) -> np.dtype:
        """dtype of the data."""
        return self._eg_keydata.dtype

    # ---- train selection ---------------------------------------------------------------------

    def _with_selected_det(self, det: MultimodDetectorBase) -> Any:
        kw = self._init_kwargs()
        kw["det"] = det
        return type(self)(**kw)

    def select_trains(self, trains: Any) -> Any:
        """The same key for a subset of the trains (any train selector)."""
        return self._with_selected_det(self.det.select_trains(trains))

    def __getitem__(self, trains: Any) -> Any:
        return self.select_trains(trains)

    def split_trains(self, parts: int | None = None, trains_per_part: int | None = None,
                     frames_per_part: int | None = None) -> Iterator[Any]:
        """Split into consecutive parts (see the detector's ``split_trains``)."""
        for det in self.det.split_trains(parts, trains_per_part, frames_per_part):
            yield self._with_selected_det(det)

    # ---- the reading plan ------------------------------------------------------------------------

    def _slot_counts(self) -> np.ndarray:
        """Entries each selected train takes in the result (here 1)."""
        return np.ones(len(self.det.train_ids), dtype=np.int64)

    def _selected_slots(self) -> np.ndarray | None:
        """Which slots are wanted (None: all)."""
        return None

    _extra_dim = False

    def _row(self, i: int, modno: int, module_gaps: bool) -> int:
        return modno - self.det._modnos_start_at if module_gaps else i

    def _plan(self, module_gaps: bool = False) -> list[Piece]:
        tids = np.asarray(self.det.train_ids, dtype=np.uint64)
        expected = self._slot_counts()
        pieces: list[Piece] = []
        for i, (modno, kd) in enumerate(sorted(self.modno_to_keydata.items())):
            pieces += plan_module(self._row(i, modno, module_gaps), kd._data_chunks, tids,
                                  expected, f"{kd.source} {kd.key}")
        return pieces

    @cached_property
    def _plan_cache(self) -> list[Piece]:
        return self._plan()

    def _pieces(self, module_gaps: bool) -> list[Piece]:
        return self._plan(True) if module_gaps else self._plan_cache

    # ---- loading ----------------------------------------------------------------------------------

    def ndarray(self, *, fill_value: Any = None, out: np.ndarray | None = None, roi: Any = (),
                astype: Any = None, module_gaps: bool = False) -> np.ndarray:
        """Load the data as a numpy array ``(module, entry, ...)``.

        Parameters
        ----------
        fill_value : number, optional
            For missing modules and trains: default NaN for floats, 0 for
            integers (ValueError if the dtype cannot hold it).
        out : numpy.ndarray, optional
            Array to fill, of exactly the result's shape (ValueError otherwise).
        roi : tuple
            Index applied to every entry.
        astype : dtype, optional
            dtype of the result.
        module_gaps : bool
            Make room for every module of the detector, missing or not.
        """
        if not isinstance(roi, tuple):
            roi = (roi,)
        shape = self.buffer_shape(module_gaps, roi)
        if out is None:
            dtype = self.dtype if astype is None else np.dtype(astype)
            out = out_array(shape, dtype, fill_value)
        elif out.shape != shape:
            raise ValueError(f"requires output array of shape {shape}")
        read_pieces(self._pieces(module_gaps), out, roi, selected=self._selected_slots(),
                    extra_dim=self._extra_dim)
        return out

    def _dims_after_roi(self, roi: Any) -> list[str]:
        """:attr:`dimensions` without the entry axes an integer in *roi* removes."""
        dims = self.dimensions
        roi = roi if isinstance(roi, tuple) else (roi,)
        if Ellipsis in roi:
            roi = roi[:roi.index(Ellipsis)]
        dropped = {i for i, r in enumerate(roi) if isinstance(r, (int, np.integer))}
        return dims[:2] + [d for i, d in enumerate(dims[2:]) if i not in dropped]

    def _wrap_xarray(self, arr: Any, roi: Any = ()) -> Any:
        import xarray

        coords = {"module": self.modules, "trainId": self.train_id_coordinates()}
        return xarray.DataArray(arr, dims=self._dims_after_roi(roi), coords=coords)

    def xarray(self, *, fill_value: Any = None, roi: Any = (), astype: Any = None) -> Any:
        """Load the data as a labelled xarray.DataArray (parameters as :meth:`ndarray`).

        An integer in *roi* removes that entry dimension.
        """
        arr = self.ndarray(fill_value=fill_value, roi=roi, astype=astype)
        return self._wrap_xarray(arr, roi)

    def _dask_bounds(self, frames_per_part: float) -> np.ndarray:
        """Slot boundaries of dask chunks: groups of whole trains."""
        slices = self.det._part_slices(frames_per_part=frames_per_part)
        starts = np.append(slot_starts(self._slot_counts()), int(self._slot_counts().sum()))
        return np.array([0] + [int(starts[sl.stop if sl.stop is not None else -1])
                               for sl in slices], dtype=np.int64)

    def _dask(self, frames_per_part: float, fill_value: Any, astype: Any) -> Any:
        dtype = self.dtype if astype is None else np.dtype(astype)
        return pieces_dask_array(self._pieces(False), self._dask_bounds(frames_per_part),
                                 len(self.modno_to_keydata), self._entry_shape, dtype,
                                 fill_value=fill_value, selected=self._selected_slots(),
                                 extra_dim=self._extra_dim,
                                 name=f"multimod-{self.key}")

    def dask_array(self, *, labelled: bool = False, fill_value: Any = None,
                   astype: Any = None) -> Any:
        """A dask array of the data; each chunk holds whole trains and opens only their files.

        *labelled* wraps it in an xarray.DataArray with the dimensions and
        coordinates of :meth:`xarray`.
        """
        entry_bytes = (self.dtype.itemsize * len(self.modno_to_keydata)
                       * int(np.prod(self._eg_keydata.entry_shape)))
        # As EXtra-data: up to 1 GiB per chunk, at most 256 frames.
        arr = self._dask(min(1024**3 / max(entry_bytes, 1), 256), fill_value, astype)
        return self._wrap_xarray(arr) if labelled else arr

    def data_availability(self, module_gaps: bool = False) -> np.ndarray:
        """Boolean array (modules, entries): True where a module has data."""
        n_mod = self.det.n_modules if module_gaps else len(self.modno_to_keydata)
        selected = self._selected_slots()
        n = self._n_entries()
        out = np.zeros((n_mod, n), dtype=np.bool_)
        packed = None if selected is None else np.cumsum(selected) - selected
        for piece in self._pieces(module_gaps):
            if packed is None:
                out[piece.row, piece.slot:piece.slot + piece.n] = True
            else:
                wanted = int(selected[piece.slot:piece.slot + piece.n].sum())
                start = int(packed[piece.slot])
                out[piece.row, start:start + wanted] = True
        return out


class DetectorMaskedKeyData(MultimodKeyData):
    """A detector key with the pixels flagged by the correction mask replaced.

    Get it from ``det.masked_data()``; it reads like ``det[key]``.
    """

    def __init__(self, *args: Any, mask_key: str, mask_bits: int | None, masked_value: Any,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._mask_key = mask_key
        self._mask_bits = mask_bits
        self._masked_value = masked_value

    def __repr__(self) -> str:
        return f"<Masked {self.key!r} detector data for {len(self.modules)} modules>"

    def _init_kwargs(self) -> dict[str, Any]:
        kw = super()._init_kwargs()
        kw.update(mask_key=self._mask_key, mask_bits=self._mask_bits,
                  masked_value=self._masked_value)
        return kw

    def _mask_keydata(self) -> MultimodKeyData:
        return self.det[self._mask_key]

    def _load_mask(self, module_gaps: bool, roi: Any = ()) -> np.ndarray:
        """True for pixels to mask."""
        mask = self._mask_keydata().ndarray(module_gaps=module_gaps, roi=roi)
        if self._mask_bits is None:
            return mask != 0
        return (mask & self._mask_bits) != 0

    def ndarray(self, *, module_gaps: bool = False, roi: Any = (), **kwargs: Any) -> np.ndarray:
        """Load the data and replace masked pixels (arguments as ``det[key].ndarray``)."""
        # The mask first: 1 byte per pixel once made boolean, so peak memory
        # is lower than loading it beside the data.
        bad = self._load_mask(module_gaps, roi)
        data = super().ndarray(module_gaps=module_gaps, roi=roi, **kwargs)
        data[bad] = self._masked_value
        return data

    def _dask(self, frames_per_part: float, fill_value: Any, astype: Any) -> Any:
        import dask.array as da

        data = super()._dask(frames_per_part, fill_value, astype)
        mask = self._mask_keydata()._dask(frames_per_part, 0, None)
        bad = mask != 0 if self._mask_bits is None else (mask & self._mask_bits) != 0
        return da.where(bad, data.dtype.type(self._masked_value), data)
