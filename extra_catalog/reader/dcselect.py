"""Selecting from a DataCollection: sources and keys, trains, splitting, union."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .chunks import same_run
from .keydata import KeyData, as_tids
from .selection import select_train_ids
from .sourcedata import SourceData
from .sourcekeys import (KeySelection, deselect_sources_keys, select_sources_keys,
                         selected_index_groups)

if TYPE_CHECKING:
    from .collection import DataCollection

__all__ = ["SelectionMixin"]


class _LazyKeys(Mapping[str, frozenset[str]]):
    """``{source: selected keys}`` looking keys up only when asked."""

    def __init__(self, sources_data: dict[str, SourceData]) -> None:
        self._sd = sources_data

    def __getitem__(self, source: str) -> frozenset[str]:
        return frozenset(self._sd[source].keys())

    def __iter__(self) -> Iterator[str]:
        return iter(self._sd)

    def __len__(self) -> int:
        return len(self._sd)

    def __contains__(self, source: object) -> bool:
        return source in self._sd


class SelectionMixin:
    """Source/key and train selection of :class:`DataCollection`."""

    _sources_data: dict[str, SourceData]
    _tids: np.ndarray
    control_sources: frozenset[str]
    inc_suspect_trains: bool
    is_single_run: bool

    def _as_selection(self, seln: Any) -> Any:
        """Turn DataCollection/SourceData/KeyData arguments into the dict form."""
        from .collection import DataCollection

        if isinstance(seln, DataCollection):
            return {src: (None if keys is None else set(keys))
                    for src, keys in seln.selection.items()}
        if isinstance(seln, SourceData):
            return {seln.source: None if seln.sel_keys is None else set(seln.sel_keys)}
        if isinstance(seln, KeyData):
            return {seln.source: {seln.key}}
        return seln

    def _expand(self, seln: Any, key_glob: str, select: bool) -> KeySelection:
        func = select_sources_keys if select else deselect_sources_keys
        return func(self._as_selection(seln), key_glob, source_keys=_LazyKeys(self._sources_data),
                    control_sources=self.control_sources)

    def select(self: DataCollection, seln_or_source_glob: Any, key_glob: str = "*",
               require_all: bool = False, require_any: bool = False, *,
               warn_drop_trains_frac: float = 1.0) -> DataCollection:
        """A new collection with a subset of the sources and keys.

        Parameters
        ----------
        seln_or_source_glob : str, iterable, dict, DataCollection, SourceData or KeyData
            A source glob (with *key_glob*); an iterable of source globs or
            ``(source glob, key glob)`` pairs; a dict ``{source: set(keys) | None}``
            of exact names (None or an empty set: all keys); or another
            collection, source or key whose selection to take.
        key_glob : str
            Key pattern used with a single source glob. CONTROL keys may omit
            ``.value``.
        require_all, require_any : bool
            Keep only trains where all (any) selected sources and index
            groups have data.
        warn_drop_trains_frac : float
            Warn when one source drops at least this fraction of the trains
            left (default 1: only when it drops all of them).

        Raises
        ------
        ValueError
            A pattern matches nothing.
        SourceNameError, PropertyNameError
            A dict names a missing source or key.
        """
        chosen = self._expand(seln_or_source_glob, key_glob, select=True)
        sources = {src: self._sources_data[src] if keys is None
                   else self._sources_data[src].select_keys(set(keys))
                   for src, keys in chosen.items()}
        tids = self._tids
        if require_all or require_any:
            tids = self._trains_with_data(sources, require_all, warn_drop_trains_frac)
            sources = {src: sd._only_tids(tids) for src, sd in sources.items()}
        return self._derive(sources, tids)

    def _trains_with_data(self, sources: dict[str, SourceData], require_all: bool,
                          warn_frac: float) -> np.ndarray:
        tids = self._tids if require_all else np.zeros(0, dtype=np.uint64)
        for source, sd in sources.items():
            if sd.is_control and not sd.keys():
                continue  # RUN values only: no trains to require
            before = len(tids)
            groups = selected_index_groups(sd.sel_keys, is_control=sd.is_control,
                                           all_groups=lambda sd=sd: sd.index_groups)
            for group in sorted(groups):
                with_data = _train_ids_with_data(sd, group, self.inc_suspect_trains)
                tids = (np.intersect1d(tids, with_data) if require_all
                        else np.union1d(tids, with_data))
            dropped = before - len(tids)
            if before and dropped / before >= warn_frac:
                warnings.warn(f"{dropped}/{before} ({dropped / before:.0%}) trains dropped "
                              f"when filtering by {source}", stacklevel=4)
        return as_tids(tids)

    def deselect(self: DataCollection, seln_or_source_glob: Any,
                 key_glob: str = "*") -> DataCollection:
        """A new collection without the given sources/keys (same arguments as :meth:`select`)."""
        remaining = self._expand(seln_or_source_glob, key_glob, select=False)
        sources = {src: self._sources_data[src] if keys is None
                   else self._sources_data[src].select_keys(set(keys))
                   for src, keys in remaining.items()}
        return self._derive(sources, self._tids)

    def select_trains(self: DataCollection, train_range: Any) -> DataCollection:
        """A new collection for a subset of the trains.

        *train_range* is any train selector: ``by_id[...]``, ``by_index[...]``,
        a slice, an int, a list or array of positions, a boolean array, or a
        boolean xarray with a ``trainId`` coordinate (see :mod:`.selection`).
        Also available as ``data[train_range]``.
        """
        tids = select_train_ids(self._tids, train_range, stacklevel=3)
        sources = {src: sd._only_tids(tids) for src, sd in self._sources_data.items()}
        return self._derive(sources, tids)

    def split_trains(self: DataCollection, parts: int | None = None,
                     trains_per_part: int | None = None) -> Iterator[DataCollection]:
        """Split into consecutive collections with similar numbers of trains.

        Either *parts* or *trains_per_part* must be given: 11 trains with
        ``trains_per_part=8`` make parts of 5 and 6 trains. With both, *parts*
        is a minimum. Each part keeps only the files it needs.
        """
        splitters = {src: sd.split_trains(parts, trains_per_part)
                     for src, sd in self._sources_data.items()}
        from .selection import split_positions

        for sl in split_positions(len(self._tids), parts, trains_per_part):
            sources = {src: next(it) for src, it in splitters.items()}
            yield self._derive(sources, self._tids[sl])

    def union(self: DataCollection, *others: DataCollection) -> DataCollection:
        """Join this collection with others (more sources and/or more trains).

        Sources present in several are combined; every source then covers
        the union of the train IDs. The result is a single run only when
        every part is a single run with the same proposal and run number.
        Also available as ``a | b`` and ``a |= b``.
        """
        every = (self,) + others
        per_source: dict[str, list[SourceData]] = {}
        for dc in every:
            for src, sd in dc._sources_data.items():
                per_source.setdefault(src, []).append(sd)
        merged = {src: sds[0].union(*sds[1:]) for src, sds in per_source.items()}
        tids = np.unique(np.concatenate([dc._tids for dc in every]))
        merged = {src: sd._derive(tids=tids, files=sd.files) for src, sd in merged.items()}
        single = same_run(*every)
        for sd in merged.values():
            sd.is_single_run = single
        files = {f for dc in every for f in dc.files}
        from .collection import DataCollection

        from .aliases import merge_alias_files, merge_aliases

        return DataCollection(sorted(files, key=lambda f: f.filename), sources_data=merged,
                              train_ids=tids, aliases=merge_aliases(dc._aliases for dc in every),
                              inc_suspect_trains=self.inc_suspect_trains, is_single_run=single,
                              alias_files=merge_alias_files(*(dc._alias_files for dc in every)))

    def __or__(self: DataCollection, other: DataCollection) -> DataCollection:
        return self.union(other)

    def __ior__(self: DataCollection, other: DataCollection) -> DataCollection:
        return self.union(other)


def _train_ids_with_data(sd: SourceData, group: str, inc_suspect: bool) -> np.ndarray:
    """Train IDs where *sd* has entries in *group*, over all its files."""
    found = [np.zeros(0, dtype=np.uint64)]
    for f in sd.files:
        _, counts = f.get_index(sd.source, group)
        n = min(len(counts), len(f.train_ids))
        keep = counts[:n] > 0
        if not inc_suspect:
            keep &= f.validity_flag[:n]
        found.append(f.train_ids[:n][keep])
    return np.unique(np.concatenate(found))
