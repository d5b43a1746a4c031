"""Pulse-resolved detectors with the XTDF format: AGIPD, LPD, DSSC.

Their ``image.*`` keys hold one entry per frame (several per train, the
number may vary between trains), labelled by ``image.pulseId`` and
``image.cellId``. Other keys (``header.*``...) have one entry per train and
read as in :mod:`.multimod`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..reader.selection import by_id, by_index
from .base import MultimodDetectorBase, register
from .multimod import DetectorMaskedKeyData, MultimodKeyData
from .pulses import (MAX_PULSES, check_pulse_selection, is_all_pulses, select_by_id,
                     select_by_index)

if TYPE_CHECKING:
    import pandas as pd

    from ..reader.collection import DataCollection

__all__ = ["XtdfDetectorBase", "XtdfImageMultimodKeyData", "XtdfMaskedKeyData", "AGIPD1M",
           "AGIPD500K", "DSSC1M", "LPD1M", "LPDSolo"]

#: Marks a frame whose pulse/cell ID no module recorded.
NO_PULSE_ID = 9999
_SUBTRAIN_INDEXES = ("pulseId", "cellId")


def _check_subtrain_index(subtrain_index: str) -> None:
    if subtrain_index not in _SUBTRAIN_INDEXES:
        raise ValueError("subtrain_index must be 'pulseId' or 'cellId'")


def _multiindex_coords(index: pd.MultiIndex, dim: str, modules: list[int]) -> Any:
    import xarray

    coords = xarray.Coordinates.from_pandas_multiindex(index, dim)
    return coords.assign(module=modules)


class XtdfImageMultimodKeyData(MultimodKeyData):
    """An ``image.*`` key of all modules: one entry per selected frame.

    Dimensions ``(module, train_pulse, ...)``; raw data's extra axis of
    length 1 (LPD, DSSC) is dropped. Select frames with :meth:`select_pulses`.
    """

    det: XtdfDetectorBase

    def __init__(self, det: XtdfDetectorBase, key: str,
                 pulse_sel: by_id | by_index = by_index[0:MAX_PULSES:1]) -> None:
        super().__init__(det, key)
        self._pulse_sel = pulse_sel
        eshape = self._eg_keydata.entry_shape
        self._extra_dim = len(eshape) >= 1 and eshape[0] == 1
        self._sel_cache: np.ndarray | None = None

    def _init_kwargs(self) -> dict[str, Any]:
        kw = super()._init_kwargs()
        kw["pulse_sel"] = self._pulse_sel
        return kw

    @property
    def _entry_shape(self) -> tuple[int, ...]:
        eshape = self._eg_keydata.entry_shape
        return eshape[1:] if self._extra_dim else eshape

    def _slot_counts(self) -> np.ndarray:
        return self.det.frame_counts.to_numpy(dtype=np.int64)

    def _all_pulses(self) -> bool:
        return is_all_pulses(self._pulse_sel)

    def _selected_slots(self) -> np.ndarray | None:
        if self._all_pulses():
            return None
        if self._sel_cache is None:
            p = self._pulse_sel
            if isinstance(p, by_id):
                self._sel_cache = select_by_id(p, self.det._collect_inner_ids("pulseId"))
            else:
                self._sel_cache = self.det._select_pulse_indices(p, self._slot_counts())
        return self._sel_cache

    def _n_entries(self) -> int:
        sel = self._selected_slots()
        return int(self.det.frame_counts.sum()) if sel is None else int(sel.sum())

    def _pick(self, per_frame: np.ndarray) -> np.ndarray:
        sel = self._selected_slots()
        return per_frame.copy() if sel is None else per_frame[sel]

    def train_id_coordinates(self) -> np.ndarray:
        """The train ID of each selected frame."""
        return self._pick(self.det.train_ids_perframe)

    def pulse_id_coordinates(self) -> np.ndarray:
        """The pulse ID of each selected frame (from ``image.pulseId``)."""
        return self._pick(self.det._collect_inner_ids("pulseId"))

    def cell_id_coordinates(self) -> np.ndarray:
        """The memory cell of each selected frame (from ``image.cellId``)."""
        return self._pick(self.det._collect_inner_ids("cellId"))

    @property
    def dimensions(self) -> list[str]:
        inner = self.ndim - 2
        # Named by the number of axes, as EXtra-data does: raw image.data has
        # (data/gain, slow, fast), corrected data, gain and mask (slow, fast).
        if inner == 3:
            names = ["data_gain", "slow_scan", "fast_scan"]
        elif inner == 2:
            names = ["slow_scan", "fast_scan"]
        else:
            names = [f"dim_{i}" for i in range(inner)]
        return ["module", "train_pulse"] + names

    def select_pulses(self, pulses: Any) -> XtdfImageMultimodKeyData:
        """The same key for some pulses of each train.

        *pulses* is ``by_index[...]`` (positions in the train; a bare slice,
        int or list means this), or ``by_id[...]`` (recorded pulse IDs).
        """
        kw = self._init_kwargs()
        kw["pulse_sel"] = check_pulse_selection(pulses)
        return type(self)(**kw)

    def ndarray(self, *, fill_value: Any = None, out: np.ndarray | None = None, roi: Any = (),
                astype: Any = None, module_gaps: bool = False,
                decompress_threads: int | None = None) -> np.ndarray:
        """Load the data as a numpy array ``(module, frame, ...)``.

        As :meth:`MultimodKeyData.ndarray`; *decompress_threads* is accepted
        for compatibility (reading uses HDF5's own decompression).
        """
        return super().ndarray(fill_value=fill_value, out=out, roi=roi, astype=astype,
                               module_gaps=module_gaps)

    def _frame_index(self, subtrain_index: str) -> pd.MultiIndex:
        _check_subtrain_index(subtrain_index)
        inner = self.det._collect_inner_ids(subtrain_index)
        index = self.det._make_image_index(self.det.train_ids_perframe, inner,
                                           subtrain_index[:-2])
        sel = self._selected_slots()
        return index if sel is None else index[sel]

    def _wrap_xarray(self, arr: Any, subtrain_index: str = "pulseId", roi: Any = ()) -> Any:
        import xarray

        coords = _multiindex_coords(self._frame_index(subtrain_index), "train_pulse",
                                    self.modules)
        return xarray.DataArray(arr, dims=self._dims_after_roi(roi), coords=coords)

    def xarray(self, *, pulses: Any = None, fill_value: Any = None, roi: Any = (),
               astype: Any = None, subtrain_index: str = "pulseId", unstack_pulses: bool = False,
               decompress_threads: int | None = None) -> Any:
        """Load the data as a labelled array.

        Dimensions ``(module, train_pulse, ...)`` with a ``train_pulse``
        MultiIndex of train and pulse (or cell, with
        ``subtrain_index='cellId'``) IDs; with *unstack_pulses*, separate
        ``train`` and ``pulse`` dimensions instead (frames a train lacks are
        filled with NaN). *pulses* selects pulses first, as :meth:`select_pulses`.
        """
        if pulses is not None:
            return self.select_pulses(pulses).xarray(
                fill_value=fill_value, roi=roi, astype=astype, subtrain_index=subtrain_index,
                unstack_pulses=unstack_pulses)
        _check_subtrain_index(subtrain_index)
        arr = self.ndarray(fill_value=fill_value, roi=roi, astype=astype)
        labelled = self._wrap_xarray(arr, subtrain_index, roi)
        if not unstack_pulses:
            return labelled
        order = (["module"] + list(labelled.indexes["train_pulse"].names)
                 + self._dims_after_roi(roi)[2:])
        return labelled.unstack("train_pulse").transpose(*order)

    def dask_array(self, *, labelled: bool = False, subtrain_index: str = "pulseId",
                   fill_value: Any = None, astype: Any = None,
                   frames_per_chunk: int | None = None) -> Any:
        """A dask array of the data (chunks of whole trains, each opening only its files).

        *frames_per_chunk* defaults to what fits in 2 GiB, at most 1024.
        """
        _check_subtrain_index(subtrain_index)
        if frames_per_chunk is None:
            entry_bytes = (self.dtype.itemsize * len(self.modno_to_keydata)
                           * int(np.prod(self._eg_keydata.entry_shape)))
            frames_per_chunk = min(2 * 1024**3 / max(entry_bytes, 1), 1024)
        arr = self._dask(frames_per_chunk, fill_value, astype)
        return self._wrap_xarray(arr, subtrain_index) if labelled else arr


class XtdfMaskedKeyData(DetectorMaskedKeyData, XtdfImageMultimodKeyData):
    """An ``image.*`` key with masked pixels replaced, from ``det.masked_data()``."""

    def _mask_keydata(self) -> MultimodKeyData:
        return self.det[self._mask_key].select_pulses(self._pulse_sel)


class XtdfDetectorBase(MultimodDetectorBase):
    """Common machinery of AGIPD, LPD and DSSC (16 modules unless stated)."""

    n_modules = 16
    _main_data_key = "image.data"
    _mask_data_key = "image.mask"

    def _set_frame_counts(self, tids: np.ndarray, frames: np.ndarray) -> None:
        super()._set_frame_counts(tids, frames)
        self._inner_ids: dict[str, np.ndarray] = {}

    def __getitem__(self, key: str) -> MultimodKeyData:
        if key.startswith("image."):
            return XtdfImageMultimodKeyData(self, key)
        return super().__getitem__(key)

    # ---- pulse and cell IDs ------------------------------------------------------------------

    def _select_pulse_indices(self, pulses: by_index, counts: np.ndarray) -> np.ndarray:
        return select_by_index(pulses, counts)

    def _read_inner_ids(self, field: str) -> np.ndarray:
        """``image.<field>`` of every module, ``(modules, frames)``, NO_PULSE_ID where missing."""
        kd = XtdfImageMultimodKeyData(self, f"image.{field}")
        return kd.ndarray(fill_value=NO_PULSE_ID, astype=np.uint64)

    def _collect_inner_ids(self, field: str = "pulseId") -> np.ndarray:
        """One pulse (or cell) ID per frame, the same for every module that has it.

        Raises
        ------
        ValueError
            A frame has no ID in any module, or modules disagree.
        """
        if field not in self._inner_ids:
            ids = self._read_inner_ids(field)
            lowest = ids.min(axis=0, initial=NO_PULSE_ID)
            if (lowest == NO_PULSE_ID).any():
                raise ValueError(f"Failed to find {field} for some data")
            ids[ids == NO_PULSE_ID] = 0
            if (lowest != ids.max(axis=0, initial=0)).any():
                raise ValueError(f"Inconsistent {field} for different modules")
            self._inner_ids[field] = lowest
        return self._inner_ids[field]

    def _make_image_index(self, tids: np.ndarray, inner_ids: np.ndarray,
                          inner_name: str = "pulse") -> pd.MultiIndex:
        import pandas as pd

        return pd.MultiIndex.from_arrays([tids, inner_ids], names=["train", inner_name])

    # ---- data access ---------------------------------------------------------------------------

    def get_array(self, key: str, pulses: Any = np.s_[:], unstack_pulses: bool = True, *,
                  fill_value: Any = None, subtrain_index: str = "pulseId", roi: Any = (),
                  astype: Any = None) -> Any:
        """Load a labelled array of detector data.

        Parameters
        ----------
        key : str
            E.g. ``'image.data'``.
        pulses : slice, int, list, by_index or by_id
            Pulses to include from each train (image keys only): by
            position in the train, or ``by_id`` by recorded pulse ID.
        unstack_pulses : bool
            Separate ``train`` and ``pulse`` dimensions (default); False
            keeps one ``train_pulse`` dimension.
        fill_value : number, optional
            For missing modules and trains (default NaN / 0).
        subtrain_index : {'pulseId', 'cellId'}
            Label frames by pulse ID or memory cell.
        roi : tuple
            Index applied to each module's frame (for raw AGIPD ``np.s_[0]``
            keeps the data and drops the gain part).
        astype : dtype, optional
        """
        _check_subtrain_index(subtrain_index)
        if not isinstance(roi, tuple):
            roi = (roi,)
        if key.startswith("image."):
            kd = self[key]
            assert isinstance(kd, XtdfImageMultimodKeyData)
            return kd.select_pulses(pulses).xarray(
                fill_value=fill_value, roi=roi, astype=astype, subtrain_index=subtrain_index,
                unstack_pulses=unstack_pulses)
        return super().get_array(key, fill_value=fill_value, roi=roi, astype=astype)

    def get_dask_array(self, key: str, subtrain_index: str = "pulseId", fill_value: Any = None,
                       astype: Any = None) -> Any:
        """A labelled dask array; frames along ``train_pulse`` (``trainId``, ``pulseId``).

        The entry dimensions are ``dim_0``...; raw LPD and DSSC data keep
        their extra axis of length 1 here, as in EXtra-data.
        """
        import xarray

        _check_subtrain_index(subtrain_index)
        if not key.startswith("image."):
            return super().get_dask_array(key, fill_value=fill_value, astype=astype)
        kd = self[key]
        assert isinstance(kd, XtdfImageMultimodKeyData)
        arr = kd.dask_array(fill_value=fill_value, astype=astype)
        if kd._extra_dim:
            arr = arr[:, :, None]
        index = kd._frame_index(subtrain_index)
        index = index.set_names(["trainId", subtrain_index], level=[0, -1])
        dims = ["module", "train_pulse"] + [f"dim_{i}" for i in range(arr.ndim - 2)]
        coords = _multiindex_coords(index, "train_pulse", kd.modules)
        return xarray.DataArray(arr, dims=dims, coords=coords)

    def trains(self, pulses: Any = np.s_[:],
               require_all: bool = True) -> Iterator[tuple[int, dict[str, Any]]]:
        """Iterate ``(train_id, {key: DataArray})`` over trains.

        Image keys have dimensions ``(module, train, pulse, ...)`` with the
        selected *pulses*; others ``(module, ...)``. With *require_all*
        (default), trains where a selected module has no data are skipped.
        """
        from .trains import MPxDetectorTrainIterator

        return iter(MPxDetectorTrainIterator(self, pulses, require_all=require_all))

    def masked_data(self, key: str | None = None, *, mask_bits: Any = None,
                    masked_value: Any = np.nan) -> Any:
        """Corrected ``image.*`` data with masked pixels replaced.

        As :meth:`MultimodDetectorBase.masked_data`, for image keys.
        """
        key = key or self._main_data_key
        if not key.startswith("image."):
            raise ValueError(f"masked_data() needs an image.* key, not {key!r}")
        return XtdfMaskedKeyData(self, key, **self._mask_options(mask_bits, masked_value))

    def write_frames(self, filename: Any, trains: Any, pulses: Any) -> None:
        """Write chosen frames to a new EuXFEL HDF5 file.

        ``(trains[i], pulses[i])`` names one frame by train ID and the pulse
        ID the detector recorded. Every module source is written with its
        ``image.*`` keys cut to those frames and its other keys whole.

        Raises
        ------
        ValueError
            *trains* and *pulses* are not 1D arrays of the same length.
        """
        from ..reader.writing import write_selection

        trains, pulses = np.asarray(trains), np.asarray(pulses)
        if trains.ndim != 1 or pulses.ndim != 1:
            raise ValueError("trains & pulses must be 1D arrays")
        if trains.shape != pulses.shape:
            raise ValueError(f"Train & pulse arrays don't match ({trains.shape} != "
                             f"{pulses.shape})")
        wanted = set(zip(trains.astype(np.uint64).tolist(), pulses.astype(np.uint64).tolist()))
        masks = {}
        for source in self.source_to_modno:
            kd = self.data[source, "image.pulseId"]
            pids = kd.ndarray().reshape(kd.shape[0], -1)[:, 0].astype(np.uint64).tolist()
            tids = kd.train_id_coordinates().tolist()
            masks[(source, "image")] = np.array([p in wanted for p in zip(tids, pids)],
                                                dtype=bool)
        write_selection(self.data, filename, masks)


class _AGIPDRawCheck:
    """AGIPD raw data has an extra axis (data/gain); corrected data may be integer."""

    _main_data_key = "image.data"

    @classmethod
    def _data_is_raw(cls, data: DataCollection, source: str) -> bool:
        if "/CORR/" in source:
            return False
        return data[source, cls._main_data_key].ndim == 4


@register
class AGIPD1M(_AGIPDRawCheck, XtdfDetectorBase):
    """AGIPD-1M data: 16 modules of 512 x 128 pixels.

    Parameters
    ----------
    data : DataCollection
        E.g. from :func:`~extra_catalog.open_run`.
    detector_name : str, optional
        E.g. ``'SPB_DET_AGIPD1M-1'``: only if the data has several AGIPD-1Ms.
    modules : collection of int, optional
        Module numbers to use (default: all with data).
    min_modules : int
        Keep trains where at least this many modules have data.
    raw : bool, optional
        True for raw, False for corrected data; default corrected if present.
    """

    _det_name_pat = r"[^/]+_AGIPD1M[^/]*"
    module_shape = (512, 128)


@register
class AGIPD500K(_AGIPDRawCheck, XtdfDetectorBase):
    """AGIPD-500K data: 8 modules (names like ``HED_DET_AGIPD500K2G``); as :class:`AGIPD1M`."""

    _det_name_pat = r"[^/]+AGIPD500K[^/]*"
    module_shape = (512, 128)
    n_modules = 8


@register
class DSSC1M(XtdfDetectorBase):
    """DSSC-1M data: 16 modules of 128 x 512 pixels (parameters as :class:`AGIPD1M`)."""

    _det_name_pat = r"[^/]+_DSSC1M[^/]*"
    module_shape = (128, 512)


class LPDBase(XtdfDetectorBase):
    """LPD data, optionally in parallel gain mode.

    With ``parallel_gain=True``, each train holds its frames three times,
    high, medium then low gain: the pulse and cell IDs of the first third
    are repeated and a ``gain`` level (0-2) is added to the frame index.

    Raises
    ------
    ValueError
        ``parallel_gain=True`` but a train's frames are not a multiple of 3.
    """

    module_shape = (256, 256)

    def __init__(self, data: DataCollection, detector_name: str | None = None,
                 modules: Collection[int] | None = None, *, min_modules: int = 1,
                 parallel_gain: bool = False, raw: bool | None = None) -> None:
        super().__init__(data, detector_name, modules, min_modules=min_modules, raw=raw)
        self.parallel_gain = parallel_gain
        if parallel_gain and (self.frame_counts.to_numpy() % 3 != 0).any():
            raise ValueError("parallel_gain=True needs the frames in each train to be "
                             "divisible by 3")

    def _stages(self, counts: np.ndarray) -> Iterator[tuple[int, int]]:
        """``(start, frames per gain stage)`` of each train."""
        counts = np.asarray(counts, dtype=np.int64)
        starts = np.cumsum(counts) - counts
        return zip(starts.tolist(), (counts // 3).tolist())

    def _read_inner_ids(self, field: str) -> np.ndarray:
        ids = super()._read_inner_ids(field)
        if not self.parallel_gain:
            return ids
        # Only the first third of each train has real IDs: repeat them.
        for start, n in self._stages(self.frame_counts.to_numpy()):
            for stage in (1, 2):
                ids[:, start + stage * n:start + (stage + 1) * n] = ids[:, start:start + n]
        return ids

    def _select_pulse_indices(self, pulses: by_index, counts: np.ndarray) -> np.ndarray:
        return select_by_index(pulses, counts, stages=3 if self.parallel_gain else 1)

    def _make_image_index(self, tids: np.ndarray, inner_ids: np.ndarray,
                          inner_name: str = "pulse") -> pd.MultiIndex:
        import pandas as pd

        if not self.parallel_gain:
            return super()._make_image_index(tids, inner_ids, inner_name)
        # Only the first third of each train's IDs are real: repeat them, and
        # label the gain stage so every frame has a unique index entry.
        gain = np.zeros(len(inner_ids), dtype=np.uint8)
        inner_ids = np.array(inner_ids)
        _, firsts, counts = np.unique(tids, return_index=True, return_counts=True)
        for start, n in self._stages_at(firsts, counts):
            for stage in (1, 2):
                gain[start + stage * n:start + (stage + 1) * n] = stage
                inner_ids[start + stage * n:start + (stage + 1) * n] = inner_ids[start:start + n]
        return pd.MultiIndex.from_arrays([tids, gain, inner_ids],
                                         names=["train", "gain", inner_name])

    @staticmethod
    def _stages_at(firsts: np.ndarray, counts: np.ndarray) -> Iterator[tuple[int, int]]:
        return zip(firsts.tolist(), (np.asarray(counts) // 3).tolist())


@register
class LPD1M(LPDBase):
    """LPD-1M data: 16 modules of 256 x 256 pixels.

    Parameters as :class:`AGIPD1M`, plus *parallel_gain* (see :class:`LPDBase`).
    """

    _det_name_pat = r"[^/]+_LPD1M[^/]*"


@register
class LPDSolo(LPDBase):
    """LPD Solo data: one LPD supermodule (256 x 256 pixels); as :class:`LPD1M`."""

    n_modules = 1
    _det_name_pat = r"[^/]+_LPD_SOLO[^/]*"
