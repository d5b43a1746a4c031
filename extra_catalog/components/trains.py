"""Train by train iteration over a detector: every key of every module, labelled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..fileaccess import FileAccess
from ..reader.chunks import find_train, read_rows
from ..reader.selection import by_id, by_index
from .pulses import check_pulse_selection, select_by_id

if TYPE_CHECKING:
    from .base import MultimodDetectorBase

__all__ = ["MPxDetectorTrainIterator"]


class MPxDetectorTrainIterator:
    """Yield ``(train_id, {key: DataArray})`` for a detector, modules stacked.

    Made by ``det.trains()``. Image keys (XTDF) are ``(module, train, pulse,
    ...)`` for the selected pulses; other keys ``(module, dim_0, ...)``.
    """

    def __init__(self, data: MultimodDetectorBase, pulses: Any = by_index[:],
                 require_all: bool = True) -> None:
        self.data = data
        self.pulses = check_pulse_selection(pulses)
        self.require_all = require_all
        self._dims: dict[str, list[str]] = {}

    def _complete(self) -> np.ndarray:
        """Which selected trains have data in every index group of every module."""
        det = self.data
        ok = np.ones(len(det.train_ids), dtype=np.bool_)
        for source in det.source_to_modno:
            sd = det.data[source]
            for group in sd.index_groups:
                ok &= sd.data_counts(labelled=False, index_group=group) > 0
        return ok

    def _image_dims(self, key: str) -> list[str]:
        if key not in self._dims:
            self._dims[key] = self.data[key].dimensions[1:]
        return self._dims[key]

    def _pulse_data(self, fa: FileAccess, source: str, key: str, first: int,
                    count: int, tid: int) -> Any:
        import xarray

        group = key.partition(".")[0]
        pulse_ids = np.asarray(read_rows(fa, fa.dataset_path(source, f"{group}.pulseId"),
                                         first, count))
        if pulse_ids.ndim >= 2 and pulse_ids.shape[1] == 1:
            pulse_ids = pulse_ids[:, 0]  # raw data's extra axis
        det: Any = self.data
        # The detector's index fixes up IDs (LPD parallel gain repeats the
        # first third of each train), so select on the IDs it gives.
        full = det._make_image_index(np.full(count, tid, dtype=np.uint64), pulse_ids)
        if isinstance(self.pulses, by_id):
            positions = np.flatnonzero(select_by_id(self.pulses, full.get_level_values(-1)))
        else:
            positions = np.flatnonzero(det._select_pulse_indices(self.pulses, np.array([count])))
        data = _read_positions(fa, fa.dataset_path(source, key), first, positions)
        if data.ndim >= 2 and data.shape[1] == 1:
            data = data[:, 0]
        index = full[positions]
        dims = self._image_dims(key)
        coords = xarray.Coordinates.from_pandas_multiindex(index, "train_pulse")
        arr = xarray.DataArray(data, dims=dims, coords=coords)
        return arr.unstack("train_pulse").transpose(*index.names, *dims[1:])

    def _module_values(self, source: str, tid: int) -> dict[str, Any]:
        import xarray

        det = self.data
        fa, ix = find_train(det.data[source].files, tid, det.data.inc_suspect_trains)
        if fa is None:
            return {}
        values = {}
        for key in sorted(det.data.keys_for_source(source)):
            group = key.partition(".")[0]
            firsts, counts = fa.get_index(source, group)
            first, count = int(firsts[ix]), int(counts[ix])
            if count == 0:
                continue
            if key.startswith("image.") and hasattr(det, "_collect_inner_ids"):
                values[key] = self._pulse_data(fa, source, key, first, count, tid)
            else:
                values[key] = xarray.DataArray(read_rows(fa, fa.dataset_path(source, key),
                                                         first, count, single=count == 1))
        return values

    def _assemble(self, tid: int) -> dict[str, Any]:
        import pandas as pd
        import xarray

        per_key: dict[str, tuple[list[int], list[Any]]] = {}
        for modno, source in sorted(self.data.modno_to_source.items()):
            for key, arr in self._module_values(source, tid).items():
                modnos, arrays = per_key.setdefault(key, ([], []))
                modnos.append(modno)
                arrays.append(arr)
        return {key: xarray.concat(arrays, pd.Index(modnos, name="module"))
                for key, (modnos, arrays) in per_key.items()}

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        complete = self._complete() if self.require_all else None
        for i, tid in enumerate(self.data.train_ids):
            if complete is not None and not complete[i]:
                continue
            yield int(tid), self._assemble(int(tid))


def _read_positions(fa: FileAccess, path: str, first: int, positions: np.ndarray) -> np.ndarray:
    """Rows ``first + positions`` of a dataset: one slice read when they are consecutive."""
    if not len(positions):
        return np.asarray(read_rows(fa, path, first, 0))
    lo, hi = int(positions[0]), int(positions[-1]) + 1
    block = np.asarray(read_rows(fa, path, first + lo, hi - lo))
    if hi - lo == len(positions):
        return block
    return block[positions - lo]
