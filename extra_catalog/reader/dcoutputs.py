"""DataCollection helpers that return data: arrays, tables, run values, timestamps, trains."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import MultiRunError, TrainIDError
from .selection import by_index

if TYPE_CHECKING:
    from .collection import DataCollection

__all__ = ["OutputsMixin"]


class OutputsMixin:
    """Data-returning methods of :class:`DataCollection`."""

    _tids: np.ndarray

    # ---- per key ---------------------------------------------------------------------

    def get_data_counts(self: DataCollection, source: str, key: str) -> Any:
        """Entries per train of *source*/*key* (pandas Series indexed by train ID)."""
        return self._get_key_data(source, key).data_counts()

    def get_series(self: DataCollection, source: str, key: str) -> Any:
        """A pandas Series of 1D data (see :meth:`KeyData.series`)."""
        return self._get_key_data(source, key).series()

    def get_array(self: DataCollection, source: str, key: str, extra_dims: Any = None,
                  roi: Any = (), name: str | None = None) -> Any:
        """A labelled xarray of *source*/*key* (see :meth:`KeyData.xarray`).

        *roi* may also be given as ``by_index[...]``.
        """
        if isinstance(roi, by_index):
            roi = roi.value
        return self._get_key_data(source, key).xarray(extra_dims=extra_dims, roi=roi, name=name)

    def get_dask_array(self: DataCollection, source: str, key: str, labelled: bool = False) -> Any:
        """A lazy dask array of *source*/*key* (see :meth:`KeyData.dask_array`)."""
        return self._get_key_data(source, key).dask_array(labelled=labelled)

    def get_virtual_dataset(self: DataCollection, source: str, key: str,
                            filename: Any = None) -> Any:
        """A virtual HDF5 dataset of *source*/*key* across files, opened read-only.

        Written to *filename*, or to a new temporary ``*-karabo-data-vds.h5``
        file. See :func:`extra_catalog.reader.virtual.virtual_dataset`.
        """
        from .virtual import virtual_dataset

        return virtual_dataset(self._get_key_data(source, key), filename)

    def write(self: DataCollection, filename: Any) -> None:
        """Copy the selected sources, keys and trains into a new EuXFEL HDF5 file.

        The file opens with :func:`H5File` (and can be crawled) giving the
        same train IDs, sources, keys and values as this selection. It is
        written under a temporary name and renamed when complete; an existing
        file of that name is replaced, but never one this data is read from.

        Raises
        ------
        WriteError
            The target is an input file, its directory is missing or not
            writable, or the disk is full (nothing is left at the target).
        """
        from .writing import write_selection

        write_selection(self, filename)

    def write_virtual(self: DataCollection, filename: Any) -> None:
        """Write an EuXFEL file whose datasets are virtual views of this selection.

        No data is copied (except ``image.pulseId``/``image.cellId`` and
        strings): each dataset maps the selected rows across the sequence
        files, so the new file depends on the originals. Otherwise as
        :meth:`write`.
        """
        from .writing import write_virtual_selection

        write_virtual_selection(self, filename)

    def get_dataframe(self: DataCollection, fields: Any = None, *,
                      timestamps: bool = False) -> Any:
        """A pandas DataFrame joining the 1D keys of the (selected) sources.

        Parameters
        ----------
        fields : selection, optional
            Anything :meth:`select` accepts, to choose the columns.
        timestamps : bool
            Include CONTROL ``.timestamp`` columns (left out by default).
        """
        import pandas as pd

        if fields is not None:
            return self.select(fields).get_dataframe(timestamps=timestamps)
        series = []
        for source in sorted(self.all_sources - self.legacy_sources.keys()):
            sd = self._sources_data[source]
            for key in sorted(sd.keys()):
                if not timestamps and key.endswith(".timestamp"):
                    continue
                kd = sd[key]
                if kd.ndim == 1:
                    series.append(kd.series())
        if not series:
            return pd.DataFrame(index=pd.Index([], name="trainId"))
        return pd.concat(series, axis=1)

    # ---- run-level ---------------------------------------------------------------------

    def run_metadata(self: DataCollection) -> dict[str, Any]:
        """METADATA of the run (from the first file): dates, proposal and run numbers...

        Raises
        ------
        MultiRunError
            The collection spans several runs.
        """
        if not self.is_single_run:
            raise MultiRunError()
        return self.files[0].metadata()

    def get_run_value(self: DataCollection, source: str, key: str) -> Any:
        """One RUN value of *source* (``.value`` optional); see :meth:`SourceData.run_value`."""
        return self._get_source_data(source).run_value(key)

    def get_run_values(self: DataCollection, source: str) -> dict[str, Any]:
        """All RUN values of *source*, ``.value`` and ``.timestamp`` keys included."""
        return self._get_source_data(source).run_values()

    def train_timestamps(self: DataCollection, labelled: bool = False, *,
                         pydatetime: bool = False, euxfel_local_time: bool = False) -> Any:
        """Approximate time of each train, from ``INDEX/timestamp`` (UTC).

        Returns a ``datetime64[ns]`` array (NaT where unknown, e.g. format
        0.5), a pandas Series indexed by train ID when *labelled*, or a list of
        timezone-aware datetimes (None where unknown) with *pydatetime*.
        *euxfel_local_time* converts to Europe/Berlin and needs one of those.

        Raises
        ------
        ValueError
            *euxfel_local_time* without *labelled* or *pydatetime*.
        """
        if euxfel_local_time and not (labelled or pydatetime):
            raise ValueError("The euxfel_local_time option can only be used if either "
                             "labelled or pydatetime are set to True")
        arr = self._timestamps_ns().astype("datetime64[ns]")
        arr[arr == np.datetime64(0, "ns")] = np.datetime64("NaT")
        if labelled:
            import pandas as pd

            series = pd.Series(arr, index=self.train_ids).dt.tz_localize("UTC")
            return series.dt.tz_convert("Europe/Berlin") if euxfel_local_time else series
        if pydatetime:
            return [_pydatetime(t, euxfel_local_time) for t in arr]
        return arr

    def _timestamps_ns(self: DataCollection) -> np.ndarray:
        out = np.zeros(len(self._tids), dtype=np.uint64)
        missing = np.ones(len(self._tids), dtype=bool)
        for fa in self.files:
            ts = fa.timestamps  # from the record: no file is opened
            if ts is None or not missing.any():
                continue
            n = min(len(ts), len(fa.train_ids))
            keep = np.isin(fa.train_ids[:n], self._tids[missing])
            if not self.inc_suspect_trains:
                keep &= fa.validity_flag[:n]
            pos = np.searchsorted(self._tids, fa.train_ids[:n][keep])
            out[pos] = ts[:n][keep]
            missing[pos] = False
        return out

    # ---- trains ------------------------------------------------------------------------

    def trains(self: DataCollection, devices: Any = None, train_range: Any = None, *,
               require_all: bool = False, flat_keys: bool = False,
               keep_dims: bool = False) -> Iterator[tuple[int, dict[Any, Any]]]:
        """Iterate over trains, yielding ``(train_id, data)``.

        ``data`` is ``{source: {key: value, 'metadata': {...}}}`` (or
        ``{(source, key): value}`` with *flat_keys*); see
        :class:`~extra_catalog.reader.trains.TrainIterator`.

        Parameters
        ----------
        devices : selection, optional
            Passed to :meth:`select` first.
        train_range : train selector, optional
            Passed to :meth:`select_trains` first.
        require_all : bool
            Skip trains missing any selected source or index group.
        flat_keys, keep_dims : bool
            Flat ``(source, key)`` keys; keep the entry axis of single entries.
        """
        from .trains import TrainIterator

        dc = self if devices is None else self.select(devices)
        if train_range is not None:
            dc = dc.select_trains(train_range)
        return iter(TrainIterator(dc, require_all=require_all, flat_keys=flat_keys,
                                  keep_dims=keep_dims))

    def train_from_id(self: DataCollection, train_id: int, devices: Any = None, *,
                      flat_keys: bool = False, keep_dims: bool = False) -> tuple[int, dict]:
        """``(train_id, data)`` for one train, in the format of :meth:`trains`.

        Raises
        ------
        TrainIDError
            The train is not in this collection.
        """
        from .trains import TrainIterator

        if int(train_id) not in set(self.train_ids):
            raise TrainIDError(train_id)
        dc = self if devices is None else self.select(devices)
        it = TrainIterator(dc, require_all=False, flat_keys=flat_keys, keep_dims=keep_dims)
        return int(train_id), it.assemble(int(train_id))

    def train_from_index(self: DataCollection, train_index: int, devices: Any = None, *,
                         flat_keys: bool = False, keep_dims: bool = False) -> tuple[int, dict]:
        """As :meth:`train_from_id` for the *train_index*-th train (IndexError if none)."""
        return self.train_from_id(self.train_ids[train_index], devices=devices,
                                  flat_keys=flat_keys, keep_dims=keep_dims)


def _pydatetime(t: np.datetime64, local: bool) -> Any:
    from datetime import timezone

    value = t.astype("datetime64[ms]").item()  # as EXtra-data: millisecond precision
    if value is None:
        return None
    value = value.replace(tzinfo=timezone.utc)
    if local:
        from zoneinfo import ZoneInfo

        value = value.astimezone(ZoneInfo("Europe/Berlin"))
    return value
