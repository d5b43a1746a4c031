"""The common detector object: module sources, frame counts, train selection.

Everything a detector object is built from — which sources are modules, how
many frames each module has in each train — comes from source names and
INDEX counts, which a catalogued run holds; building one opens no file.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Collection, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..reader.selection import by_id
from .discovery import (DetectorNaming, check_min_modules, find_detector_name,
                        find_detector_names, identify_sources)

if TYPE_CHECKING:
    import pandas as pd

    from ..reader.collection import DataCollection
    from ..reader.keydata import KeyData
    from .multimod import MultimodKeyData

__all__ = ["MultimodDetectorBase", "module_counts", "DETECTOR_CLASSES", "register"]

#: Every detector class, in the order identify_multimod_detectors tries them.
DETECTOR_CLASSES: list[type[MultimodDetectorBase]] = []


def register(cls: type[MultimodDetectorBase]) -> type[MultimodDetectorBase]:
    """Class decorator adding a detector class to :data:`DETECTOR_CLASSES`."""
    DETECTOR_CLASSES.append(cls)
    return cls


def module_counts(keydata: Iterable[KeyData]) -> np.ndarray:
    """Entries per (module, selected train) as a 2D uint64 array (from the INDEX)."""
    return np.stack([kd.data_counts(labelled=False) for kd in keydata])


def _frame_counts(counts: np.ndarray, train_ids: np.ndarray) -> np.ndarray:
    """One frame count per train from per-module counts, which must agree or be 0.

    Raises
    ------
    ValueError
        Two modules have different non-zero counts for a train.
    """
    highest = counts.max(axis=0, initial=0)
    lowest = np.where(counts > 0, counts, highest).min(axis=0)
    bad = np.flatnonzero(lowest != highest)
    if len(bad):
        column = counts[:, bad[0]]
        values = set(column[column > 0].tolist())
        raise ValueError(f"Inconsistent frame counts for train {train_ids[bad[0]]}: {values}")
    return highest.astype(np.uint64)


class MultimodDetectorBase(DetectorNaming):
    """Data of a detector made of several modules, each its own source.

    Parameters
    ----------
    data : DataCollection
        A run or other collection, e.g. from :func:`~extra_catalog.open_run`.
    detector_name : str, optional
        E.g. ``'SPB_DET_AGIPD1M-1'``; needed only when the data holds more
        than one detector of this type.
    modules : collection of int, optional
        Module numbers to use (default: every module with data).
    min_modules : int
        Keep trains where at least this many modules have data (default 1).
    raw : bool, optional
        True for raw data, False for corrected; default corrected when
        present, else raw (with a warning).

    Raises
    ------
    SourceNameError
        No matching module sources.
    ValueError
        Several detectors match, *min_modules* is not positive, no train has
        enough modules, or modules disagree on a train's number of frames.
    """

    _mask_data_key: ClassVar[str] = ""
    _frames_per_entry: int = 1  # frames in one entry (JUNGFRAU: memory cells)
    _modnos_start_at: ClassVar[int] = 0
    module_shape: ClassVar[tuple[int, int]] = (0, 0)
    n_modules: int = 0

    def __init__(self, data: DataCollection, detector_name: str | None = None,
                 modules: Collection[int] | None = None, *, min_modules: int = 1,
                 raw: bool | None = None) -> None:
        if detector_name is None:
            detector_name = find_detector_name(type(self), data)
        min_modules = check_min_modules(min_modules)
        source_to_modno = identify_sources(type(self), data, detector_name, modules, raw)
        data = data.select({src: None for src in source_to_modno})
        tids = np.asarray(data.train_ids, dtype=np.uint64)
        main = {m: data[s, self._main_data_key] for s, m in source_to_modno.items()}
        counts = module_counts(main.values())
        frames = _frame_counts(counts, tids)
        keep = (counts > 0).sum(axis=0) >= min_modules
        if not keep.any():
            raise ValueError(f"No data found with >= {min_modules} modules present")
        self.detector_name = detector_name
        self.source_to_modno = source_to_modno
        self.modno_to_source = {m: s for s, m in source_to_modno.items()}
        self.data = data.select_trains(by_id[tids[keep]]) if not keep.all() else data
        self._set_frame_counts(tids[keep], frames[keep])
        if keep.all():  # det[main key] reuses these, with the file chunks they found
            self._keydata[self._main_data_key] = main

    def _module_keydata(self, key: str) -> dict[int, KeyData]:
        """``{module number: KeyData}`` of *key* for the selected trains."""
        if key not in self._keydata:
            self._keydata[key] = {m: self.data[s, key]
                                  for m, s in sorted(self.modno_to_source.items())}
        return dict(sorted(self._keydata[key].items()))

    def _set_frame_counts(self, tids: np.ndarray, frames: np.ndarray) -> None:
        import pandas as pd

        self.frame_counts: pd.Series = pd.Series(frames, index=pd.Index(tids), dtype=np.uint64)
        self._perframe: np.ndarray | None = None  # made when first needed: 8 bytes a frame
        self._keydata: dict[str, dict[int, KeyData]] = {}  # per key, for this train selection

    # ---- what it is --------------------------------------------------------------------

    @property
    def train_ids(self) -> list[np.uint64]:
        """Selected train IDs."""
        return self.data.train_ids

    @property
    def train_ids_perframe(self) -> np.ndarray:
        """The train ID of every frame (uint64)."""
        if self._perframe is None:
            counts = self.frame_counts.to_numpy().astype(np.intp)
            self._perframe = np.repeat(self.frame_counts.index.to_numpy(np.uint64), counts)
        return self._perframe

    @property
    def frames_per_train(self) -> int:
        """Frames in every train with data (ValueError if trains differ)."""
        counts = set(self.frame_counts.unique().tolist()) - {0}
        if len(counts) > 1:
            raise ValueError(f"Varying number of frames per train: {counts}")
        return int(counts.pop()) * self._frames_per_entry

    def _is_raw(self) -> bool:
        return all(self._data_is_raw(self.data, s) for s in self.source_to_modno)

    def __repr__(self) -> str:
        kind = "raw" if self._is_raw() else "proc"
        return (f"<{type(self).__name__}: Data interface for detector {self.detector_name!r} "
                f"- {kind} data with {len(self.source_to_modno)} modules>")

    @classmethod
    def _find_detector_names(cls, data: DataCollection) -> set[str]:
        return find_detector_names(cls, data)

    # ---- keys ----------------------------------------------------------------------------

    def __getitem__(self, key: str) -> MultimodKeyData:
        from .multimod import MultimodKeyData

        return MultimodKeyData(self, key)

    def __contains__(self, key: object) -> bool:
        return all(key in self.data[s] for s in self.source_to_modno)

    # ---- train selection -------------------------------------------------------------------

    def _with_data(self, data: DataCollection) -> Any:
        new = copy.copy(self)
        new.data = data
        tids = np.asarray(data.train_ids, dtype=np.uint64)
        new._set_frame_counts(tids, self.frame_counts[tids].to_numpy(dtype=np.uint64))
        return new

    def select_trains(self, trains: Any) -> Any:
        """A new detector object for a subset of the trains.

        *trains* is any train selector: ``np.s_[:5]`` (positions),
        ``by_id[first:last]`` or ``by_id[[...]]`` (train IDs)...
        """
        return self._with_data(self.data.select_trains(trains))

    def split_trains(self, parts: int | None = None, trains_per_part: int | None = None,
                     frames_per_part: int | None = None) -> Iterator[Any]:
        """Split into consecutive detector objects with a share of the trains each.

        Parameters
        ----------
        parts : int, optional
            How many parts; with *trains_per_part*, a minimum.
        trains_per_part : int, optional
            Most trains in a part.
        frames_per_part : int, optional
            Target frames in a part; parts always hold whole trains, so a
            part has at least one train however many frames it has.

        Raises
        ------
        ValueError
            None of the three is given.
        """
        if parts is None and trains_per_part is None and frames_per_part is None:
            raise ValueError("One of parts, trains_per_part, frames_per_part must be specified")
        for sl in self._part_slices(parts, trains_per_part, frames_per_part):
            yield self.select_trains(sl)

    def _part_slices(self, parts: int | None = None, trains_per_part: int | None = None,
                     frames_per_part: float | None = None) -> list[slice]:
        """Positions of the selected trains in each part (see :meth:`split_trains`)."""
        from ..reader.selection import split_positions

        if not len(self.frame_counts):
            return []
        if frames_per_part is not None:
            try:
                per_train = self.frames_per_train
            except ValueError:
                per_train = 0  # trains differ: cut by counting frames below
            if per_train:
                fit = max(1, int(frames_per_part // per_train))
                trains_per_part = min(fit, trains_per_part or fit)
                frames_per_part = None
        if frames_per_part is None:
            return list(split_positions(len(self.frame_counts), parts, trains_per_part))
        return list(self._frame_budget_slices(parts, trains_per_part, frames_per_part))

    def _frame_budget_slices(self, parts: int | None, trains_per_part: int | None,
                             frames_per_part: float) -> Iterator[slice]:
        """Slices of trains, each closing before it would exceed a frame budget."""
        limit = float("inf") if trains_per_part is None else trains_per_part
        if parts:
            limit = min(limit, len(self.frame_counts) // parts)
        counts = self.frame_counts.to_numpy() * self._frames_per_entry
        start, total = 0, int(counts[0])
        for i in range(1, len(counts)):
            if i - start + 1 > limit or total + int(counts[i]) > frames_per_part:
                yield np.s_[start:i]
                start, total = i, 0
            total += int(counts[i])
        yield np.s_[start:]

    # ---- data access ---------------------------------------------------------------------------

    def get_array(self, key: str, *, fill_value: Any = None, roi: Any = (),
                  astype: Any = None) -> Any:
        """Load a labelled array of detector data (xarray, module axis first).

        Parameters
        ----------
        key : str
            E.g. ``'data.adc'`` for JUNGFRAU pixel values.
        fill_value : number, optional
            Value for missing modules and trains: default NaN for floats,
            0 for integers.
        roi : tuple
            Index applied to each module's entry, e.g. ``np.s_[10:60, 100:200]``.
        astype : dtype, optional
            dtype of the result (default: the data's).
        """
        return self[key].xarray(fill_value=fill_value, roi=roi, astype=astype)

    def get_dask_array(self, key: str, fill_value: Any = None, astype: Any = None) -> Any:
        """A labelled dask array of detector data; nothing is read until computed.

        Parameters are as for :meth:`get_array`.
        """
        return self[key].dask_array(labelled=True, fill_value=fill_value, astype=astype)

    def trains(self, require_all: bool = True) -> Iterator[tuple[int, dict[str, Any]]]:
        """Iterate ``(train_id, {key: DataArray})`` with a ``module`` dimension.

        With *require_all* (default), trains where a selected module has no
        data are skipped.
        """
        from .trains import MPxDetectorTrainIterator

        return iter(MPxDetectorTrainIterator(self, require_all=require_all))

    def data_availability(self, module_gaps: bool = False) -> np.ndarray:
        """Boolean array (modules, entries): True where a module has data."""
        return self[self._main_data_key].data_availability(module_gaps)

    def plot_data_counts(self) -> Any:
        """Plot the entries each module recorded in each selected train.

        An image with a row per module of the detector (modules without data
        stay empty) and a column per train, coloured by the number of entries
        (frames for AGIPD/LPD/DSSC). Answered from the INDEX: no file is read.
        Needs matplotlib; returns the ``Axes``.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as err:
            raise ImportError("plot_data_counts needs matplotlib: pip install matplotlib") from err
        counts = np.zeros((self.n_modules, len(self.train_ids)), dtype=np.float64)
        counts[:] = np.nan
        for modno, kd in self._module_keydata(self._main_data_key).items():
            counts[modno - self._modnos_start_at] = kd.data_counts(labelled=False)
        fig, ax = plt.subplots(figsize=(9, max(3, self.n_modules / 3)))
        image = ax.imshow(counts, aspect="auto", interpolation="nearest",
                          extent=(-0.5, len(self.train_ids) - 0.5,
                                  self._modnos_start_at + self.n_modules - 0.5,
                                  self._modnos_start_at - 0.5))
        fig.colorbar(image, ax=ax, label="entries per train")
        ax.set_xlabel("Train ID index")
        ax.set_ylabel("Module")
        ax.set_title(f"{self.detector_name}: data counts")
        return ax

    def masked_data(self, key: str | None = None, *, mask_bits: Any = None,
                    masked_value: Any = np.nan) -> Any:
        """Corrected data with the pixels flagged in the correction mask replaced.

        Parameters
        ----------
        key : str, optional
            Data key (default the detector's main data key).
        mask_bits : int or list of int, optional
            Which bad-pixel reasons to mask, as a bitmask or a list of bits
            combined with OR; default any non-zero mask value.
        masked_value : number
            Replacement for masked pixels (default NaN).

        Raises
        ------
        RuntimeError
            The data has no mask (e.g. raw data).
        """
        from .multimod import DetectorMaskedKeyData

        key = key or self._main_data_key
        return DetectorMaskedKeyData(self, key, **self._mask_options(mask_bits, masked_value))

    def _mask_options(self, mask_bits: Any, masked_value: Any) -> dict[str, Any]:
        if self._mask_data_key not in self:
            raise RuntimeError(f"This data doesn't include a mask ({self._mask_data_key}). "
                               f"You might be using raw instead of corrected data.")
        if isinstance(mask_bits, Iterable):
            combined = 0
            for bit in mask_bits:
                combined |= bit
            mask_bits = combined
        return {"mask_key": self._mask_data_key, "mask_bits": mask_bits,
                "masked_value": masked_value}

    def write_virtual_cxi(self, filename: Any, fillvalues: dict[str, Any] | None = None) -> None:
        """Write a virtual CXI file giving the detector's frames as one array.

        The file's datasets are virtual views of the module files (nothing
        is copied): ``entry_1/instrument_1/detector_1/data`` is
        ``(frame, module, ...)`` with every module of the detector; missing
        modules and trains read as *fillvalues* (``data``: NaN for floats, 0
        for integers; ``gain``: 0; ``mask``: 0xffffffff). See
        :mod:`extra_catalog.components.cxi`.
        """
        from .cxi import write_virtual_cxi

        write_virtual_cxi(self, filename, fillvalues)

    # ---- kept for code written against old EXtra-data versions ------------------------------

    @property
    def train_id_chunks(self) -> list[np.ndarray]:
        """Runs of consecutive train IDs (deprecated)."""
        warnings.warn("detector.train_id_chunks is likely to be removed in the future. "
                      "Please contact da-support@xfel.eu if you're using it", stacklevel=2)
        tids = np.asarray(self.data.train_ids, dtype=np.uint64)
        return np.split(tids, np.flatnonzero(np.diff(tids) != 1) + 1)

    @property
    def train_id_to_ix(self) -> pd.Series:
        """First frame position of each train (deprecated)."""
        warnings.warn("detector.train_id_to_ix is likely to be removed in the future. "
                      "Please contact da-support@xfel.eu if you're using it", stacklevel=2)
        return self.frame_counts.cumsum() - self.frame_counts
