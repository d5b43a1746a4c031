"""Train iteration over a DataCollection: every selected source and key, train by train."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import CorruptFileError
from ..fileaccess import FileAccess
from .chunks import open_checked, read_rows

if TYPE_CHECKING:
    from .collection import DataCollection

__all__ = ["TrainIterator"]


class TrainIterator:
    """Iterate over the trains of a collection (made by :meth:`DataCollection.trains`).

    Each step yields ``(train_id, data)`` with ``train_id`` a Python int and
    ``data = {source: {key: value, ..., 'metadata': {'source': source,
    'timestamp.tid': train_id}}}``. Keys without data in a train are left
    out; a source without any still appears with its ``metadata``. CONTROL
    values are the train's single entry; INSTRUMENT values are one entry
    when the train has exactly one (unless *keep_dims*), else all of them.

    Parameters
    ----------
    data : DataCollection
    require_all : bool
        Skip trains where a CONTROL source has no file or an INSTRUMENT
        source lacks entries in a selected index group.
    flat_keys : bool
        Give ``{(source, key): value}`` instead of nested dicts.
    keep_dims : bool
        Keep the entry axis for single INSTRUMENT entries.
    """

    def __init__(self, data: DataCollection, require_all: bool = True, flat_keys: bool = False,
                 keep_dims: bool = False) -> None:
        self.data = data
        self.require_all = require_all
        self.flat_keys = flat_keys
        self.keep_dims = keep_dims
        self._where: dict[str, dict[int, tuple[FileAccess, int]]] = {}
        self._datasets: dict[tuple[str, str], Any] = {}

    def _locate(self, source: str) -> dict[int, tuple[FileAccess, int]]:
        """Train ID -> (file, position) for one source, built once per iteration."""
        where = self._where.get(source)
        if where is None:
            where = {}
            sd = self.data._sources_data[source]
            wanted = self.data._tids
            for fa in sd.files:
                keep = np.isin(fa.train_ids, wanted)
                if not self.data.inc_suspect_trains:
                    keep &= fa.validity_flag
                for pos in np.flatnonzero(keep).tolist():
                    where.setdefault(int(fa.train_ids[pos]), (fa, pos))
            self._where[source] = where
        return where

    def _dataset(self, fa: FileAccess, source: str, key: str) -> Any:
        path = fa.dataset_path(source, key)
        ds = self._datasets.get((fa.filename, path))
        if ds is None:
            try:
                ds = self._datasets[(fa.filename, path)] = open_checked(fa)[path]
            except KeyError:
                raise CorruptFileError(fa.filename, f"no dataset {path}") from None
        return ds

    def _missing_data(self, tid: int) -> bool:
        data = self.data
        for source in data.control_sources:
            if tid not in self._locate(source):
                return True
        for source in data.instrument_sources - data.legacy_sources.keys():
            found = self._locate(source).get(tid)
            if found is None:
                return True
            fa, pos = found
            for group in {k.partition(".")[0] for k in data._sources_data[source].keys()}:
                if fa.get_index(source, group)[1][pos] == 0:
                    return True
        return False

    def _source_values(self, source: str, tid: int) -> dict[str, Any]:
        sd = self.data._sources_data[source]
        found = self._locate(source).get(tid)
        out: dict[str, Any] = {}
        if found is None:
            return out
        fa, pos = found
        for key in sorted(sd.keys()):
            group = "" if sd.is_control else key.partition(".")[0]
            firsts, counts = fa.get_index(source, group)
            first, count = int(firsts[pos]), int(counts[pos])
            if count == 0:
                continue
            single = sd.is_control or (count == 1 and not self.keep_dims)
            value = read_rows(fa, fa.dataset_path(source, key), first, count, single=single,
                              ds=self._dataset(fa, source, key))
            out[key] = value  # as stored: strings stay bytes, as in EXtra-data
        return out

    def assemble(self, tid: int) -> dict[Any, Any]:
        """The data of one train, in the format described above."""
        res: dict[Any, Any] = {}
        for source in sorted(self.data.control_sources) + sorted(self.data.instrument_sources):
            values = self._source_values(source, tid)
            values["metadata"] = {"source": source, "timestamp.tid": tid}
            if self.flat_keys:
                res.update({(source, k): v for k, v in values.items()})
            else:
                res[source] = values
        return res

    def __iter__(self) -> Iterator[tuple[int, dict[Any, Any]]]:
        for tid in map(int, self.data.train_ids):
            if self.require_all and self._missing_data(tid):
                continue
            yield tid, self.assemble(tid)
