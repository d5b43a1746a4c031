"""JUNGFRAU: one entry per train, memory cells along the entry's first axis."""

from __future__ import annotations

import warnings
from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .base import MultimodDetectorBase, register
from .discovery import identify_sources

if TYPE_CHECKING:
    from ..reader.collection import DataCollection

__all__ = ["JUNGFRAU"]

#: memoryCell placeholder for a missing module (fits in uint8).
_NO_CELL = 255


@register
class JUNGFRAU(MultimodDetectorBase):
    """JUNGFRAU data (JNGFR, JF1M, JF4M, JF500K...): 512 x 1024 pixel modules.

    Source names look like ``SPB_IRDA_JF4M/DET/JNGFR03:daqOutput``,
    ``SPB_IRDA_JNGFR/DET/MODULE_1:daqOutput`` or ``FXE_XAD_JF1M/DET/RECEIVER-1``
    (``/CORR/`` for corrected data). Modules are numbered from 1.

    Parameters
    ----------
    data : DataCollection
    detector_name : str, optional
        E.g. ``'SPB_IRDA_JF4M'``: only if the data has several JUNGFRAUs.
    modules : collection of int, optional
        Module numbers to use (default: all with data).
    min_modules : int
        Keep trains where at least this many modules have data.
    n_modules : int, optional
        Modules of the detector; default the highest module number found.
    first_modno : int
        The number in the source name of the first module (e.g. 3 for
        ``JNGFR03`` when that is the first); modules are renumbered from 1.
    raw : bool, optional
        True for raw, False for corrected data; default corrected if present.
    """

    _det_name_pat = r"[^/]+_(JNGFR|JF[14]M|JUNGF|JF|JF500K\d?)"
    _source_raw_pat = r"/DET/(MODULE_|RECEIVER-|JNGFR)(?P<modno>\d+)"
    _source_corr_pat = r"/CORR/(MODULE_|RECEIVER-|JNGFR)(?P<modno>\d+)"
    _main_data_key = "data.adc"
    _mask_data_key = "data.mask"
    _modnos_start_at = 1
    module_shape = (512, 1024)

    def __init__(self, data: DataCollection, detector_name: str | None = None,
                 modules: Collection[int] | None = None, *, min_modules: int = 1,
                 n_modules: int | None = None, first_modno: int = 1,
                 raw: bool | None = None) -> None:
        super().__init__(data, detector_name, modules, min_modules=min_modules, raw=raw)
        shift = first_modno - 1
        self.source_to_modno = {s: m - shift for s, m in self.source_to_modno.items()}
        self.modno_to_source = {m: s for s, m in self.source_to_modno.items()}
        self._keydata = {key: {m - shift: kd for m, kd in per_module.items()}
                         for key, per_module in self._keydata.items()}
        if n_modules is not None:
            self.n_modules = int(n_modules)
        else:
            with warnings.catch_warnings():  # the constructor already warned about raw data
                warnings.simplefilter("ignore")
                every = identify_sources(type(self), data, self.detector_name, raw=raw)
            self.n_modules = max(every.values()) - shift
        # Burst mode stores several memory cells per train: they count as frames.
        first = next(iter(self.source_to_modno))
        self._frames_per_entry = self.data[first, self._main_data_key].entry_shape[0]

    @staticmethod
    def _label_dims(arr: Any) -> Any:
        """Name dimensions as for AGIPD/LPD/DSSC: train, cell, slow_scan, fast_scan."""
        per_train = arr.ndim
        if "trainId" in arr.dims:
            arr = arr.rename({"trainId": "train"})
            per_train -= 1
        if per_train == 4:
            return arr.rename({"dim_0": "cell", "dim_1": "slow_scan", "dim_2": "fast_scan"})
        if per_train == 2:
            return arr.rename({"dim_0": "cell"})
        return arr

    def get_array(self, key: str, *, fill_value: Any = None, roi: Any = (),
                  astype: Any = None) -> Any:
        """Load a labelled array ``(module, train, cell, slow_scan, fast_scan)``.

        Parameters
        ----------
        key : str
            E.g. ``'data.adc'``.
        fill_value : number, optional
            For missing modules and trains (default NaN / 0).
        roi : tuple
            Index of each module's entry, whose first axis is the memory
            cell, e.g. ``np.s_[:, 10:60, 100:200]``.
        astype : dtype, optional
        """
        return self._label_dims(super().get_array(key, fill_value=fill_value, roi=roi,
                                                  astype=astype))

    def get_dask_array(self, key: str, fill_value: Any = None, astype: Any = None) -> Any:
        """A labelled dask array, dimensions as :meth:`get_array`."""
        return self._label_dims(super().get_dask_array(key, fill_value=fill_value,
                                                       astype=astype))

    def trains(self, require_all: bool = True) -> Iterator[tuple[int, dict[str, Any]]]:
        """Iterate ``(train_id, {key: DataArray})``, data as ``(module, cell, ...)``."""
        for tid, data in super().trains(require_all=require_all):
            yield tid, {k: self._label_dims(a) for k, a in data.items()}

    def cell_ids(self) -> np.ndarray:
        """The memory cell IDs of the first train, checked to agree between modules.

        Raises
        ------
        ValueError
            No module has ``data.memoryCell``, or modules disagree.
        """
        cells = self.select_trains(np.s_[:1])["data.memoryCell"].ndarray(
            fill_value=_NO_CELL)[:, 0]
        lowest = cells.min(axis=0)
        if (lowest == _NO_CELL).any():
            raise ValueError("Failed to find memoryCell")
        cells[cells == _NO_CELL] = 0
        if (lowest != cells.max(axis=0)).any():
            raise ValueError("Inconsistent memoryCell for different modules")
        return lowest
