"""SourceData: the data of one source, for a selection of keys and trains."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import Any

import numpy as np

from ..exceptions import MultiRunError, NoDataError, PropertyNameError, SourceNameError
from ..fileaccess import FileAccess
from .chunks import same_run, trains_files_index
from .keydata import KeyData, as_tids, only_files_with
from .selection import _Selector, select_train_ids, split_positions
from .sourcekeys import resolve_key, select_source_keys

__all__ = ["SourceData", "run_value_of", "is_train_selector"]


class _MetaView:
    """What :func:`same_run` needs of a collection: its run flag and metadata."""

    def __init__(self, files: Sequence[FileAccess], is_single_run: bool) -> None:
        self.files = files
        self.is_single_run = is_single_run

    def run_metadata(self) -> dict[str, Any]:
        return self.files[0].metadata()


def run_value_of(fa: FileAccess, source: str, key: str, section: str) -> Any:
    """The RUN value of *source*/*key* in *fa* (``.value`` optional).

    Raises
    ------
    ValueError
        The source has no RUN values at all.
    PropertyNameError
        It has no value for this key.
    """
    try:
        keys = fa.get_run_keys(source)
    except SourceNameError:  # FileAccess: no RUN group for this source
        keys = set()
    if not keys:
        raise ValueError(f"{source} has no RUN values")
    name = key if key in keys else f"{key}.value"
    if name not in keys:
        raise PropertyNameError(key, source)
    return fa.get_run_values(source)[name]


class SourceData:
    """Data for one source.

    Don't create this directly; get it from ``run[source]``.

    Attributes
    ----------
    source : str
    sel_keys : frozenset of str or None
        Selected keys; None means all keys.
    train_ids : list of int
    files : list of FileAccess
        Files holding the source for the selected trains.
    section : str
        ``'CONTROL'``, ``'INSTRUMENT'``, ``'REDUCTION'`` or ``'ERRATA'``.
    canonical_name : str
        The source's current name; differs from ``source`` for legacy names.
    is_single_run, inc_suspect_trains : bool
    """

    __iter__ = None  # iterate over keys() or trains explicitly

    def __init__(self, source: str, *, sel_keys: frozenset[str] | set[str] | None,
                 train_ids: Any, files: Sequence[FileAccess], section: str,
                 canonical_name: str | None = None, is_single_run: bool = False,
                 inc_suspect_trains: bool = True) -> None:
        self.source = source
        self.sel_keys = None if sel_keys is None else frozenset(sel_keys)
        self._tids = as_tids(train_ids)
        self.files: list[FileAccess] = list(files)
        self.section = section
        self.canonical_name = canonical_name or source
        self.is_single_run = is_single_run
        self.inc_suspect_trains = inc_suspect_trains

    @classmethod
    def _of_run(cls, sources: dict[tuple[str, str], list[FileAccess]], legacy: dict[str, str],
                train_ids: np.ndarray, *, is_single_run: bool,
                inc_suspect_trains: bool) -> dict[str, SourceData]:
        """Every source of an opened run: ``{(name, section): files}``, all keys, *train_ids*.

        The same objects as the constructor makes, without its per-call work:
        a run of a large detector has hundreds of sources.
        """
        tids = as_tids(train_ids)
        new, out = object.__new__, {}
        for (name, section), files in sources.items():
            sd = new(cls)  # (plain attribute stores: the instance keeps no separate dict)
            sd.source, sd.sel_keys, sd._tids, sd.files, sd.section = name, None, tids, files, section
            sd.canonical_name = legacy.get(name, name)
            sd.is_single_run, sd.inc_suspect_trains = is_single_run, inc_suspect_trains
            out[name] = sd
        return out

    @cached_property
    def train_ids(self) -> list[np.uint64]:
        """Selected train IDs (a list of numpy.uint64, as in EXtra-data)."""
        return list(self._tids)

    def __repr__(self) -> str:
        section = "" if self.section in ("CONTROL", "INSTRUMENT") else f"section={self.section} "
        return (f"<extra_data.SourceData {section}source={self.source!r} "
                f"for {len(self._tids)} trains>")

    def _derive(self, *, sel_keys: Any = ..., tids: np.ndarray | None = None,
                files: Sequence[FileAccess] | None = None) -> SourceData:
        if tids is None:
            tids = self._tids
        elif files is None:
            files = only_files_with(self.files, tids, self.inc_suspect_trains)
        return SourceData(
            self.source, sel_keys=self.sel_keys if sel_keys is ... else sel_keys,
            train_ids=tids, files=self.files if files is None else (files or self.files[:1]),
            section=self.section, canonical_name=self.canonical_name,
            is_single_run=self.is_single_run, inc_suspect_trains=self.inc_suspect_trains)

    # ---- what the source is --------------------------------------------------------

    is_control = property(lambda self: self.section == "CONTROL",
                          doc="Whether this is a CONTROL source.")
    is_instrument = property(lambda self: self.section == "INSTRUMENT",
                             doc="Whether this is an INSTRUMENT source.")
    is_reduction = property(lambda self: self.section == "REDUCTION",
                            doc="Whether this is a REDUCTION source.")
    is_errata = property(lambda self: self.section == "ERRATA",
                         doc="Whether this is an ERRATA source.")
    is_auxiliary = property(lambda self: self.section in ("REDUCTION", "ERRATA"),
                            doc="Whether this is an auxiliary (REDUCTION/ERRATA) source.")

    @property
    def is_legacy(self) -> bool:
        """Whether ``source`` is a legacy name for another source."""
        return self.canonical_name != self.source

    @property
    def is_run_only(self) -> bool:
        """A CONTROL source with RUN values but no CONTROL keys."""
        return self.is_control and not self._all_keys()

    def _all_keys(self) -> set[str]:
        # Assumes a source has the same keys in every file of a run, as EXtra-data does.
        return self.files[0].get_keys(self.source)

    def keys(self, inc_timestamps: bool = True) -> set[str]:
        """Selected key names.

        For CONTROL sources, ``inc_timestamps=False`` gives property names
        without ``.value`` and leaves out the ``.timestamp`` keys.
        """
        keys = set(self.sel_keys) if self.sel_keys is not None else self._all_keys()
        if not inc_timestamps and self.is_control:
            return {k[:-6] for k in keys if k.endswith(".value")}
        return keys

    def _ipython_key_completions_(self) -> list[str]:
        return list(self.keys(inc_timestamps=False))

    def _resolve(self, key: str) -> str | None:
        available = self.sel_keys if self.sel_keys is not None else self._all_keys()
        return resolve_key(key, available, is_control=self.is_control)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._resolve(key) is not None

    def one_key(self, index_group: str | None = None) -> str | None:
        """Any one selected key (in *index_group* if given); None for a keyless source.

        Raises
        ------
        ValueError
            No selected key is in *index_group*.
        """
        if self.sel_keys is None:
            if index_group is not None and index_group not in self.index_groups:
                raise ValueError(f"{index_group!r} is not an index group of {self.source}; "
                                 f"see .index_groups")
            return self.files[0].get_one_key(self.source, index_group)
        if index_group is None:
            return next(iter(sorted(self.sel_keys)))
        for key in sorted(self.sel_keys):
            if key.startswith(f"{index_group}."):
                return key
        raise ValueError(f"none of the selected keys is part of `{index_group}`")

    @property
    def index_groups(self) -> set[str]:
        """INDEX groups of the selected keys: ``{''}`` for CONTROL sources."""
        if self.is_control:
            return {""}
        if self.sel_keys is None:
            return self.files[0].index_groups(self.source)
        return {k.partition(".")[0] for k in self.sel_keys}

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, str):
            return self._key_data(item)
        if is_train_selector(item):
            return self.select_trains(item)
        raise TypeError("Expected data[key] or data[train_selection]")

    def _key_data(self, key: str) -> KeyData:
        name = self._resolve(key)
        if name is None:
            raise PropertyNameError(key, self.source)
        info = self.files[0].key_info(self.source, name)
        return KeyData(self.source, name, train_ids=self._tids, files=self.files,
                       section=self.section, dtype=info.dtype, eshape=info.entry_shape,
                       inc_suspect_trains=self.inc_suspect_trains,
                       is_single_run=self.is_single_run)

    # ---- selections ------------------------------------------------------------------

    def select_keys(self, keys: Any) -> SourceData:
        """A new SourceData with a subset of the keys.

        *keys* is a key name or glob (CONTROL: ``.value`` optional), a set of
        names, or None / an empty set for all keys; it is intersected with
        the current selection.

        Raises
        ------
        PropertyNameError
            A name or pattern matches no key.
        """
        available = self.sel_keys if self.sel_keys is not None else self._all_keys()
        chosen = select_source_keys(keys, available, source=self.source,
                                    is_control=self.is_control)
        return self._derive(sel_keys=self.sel_keys if chosen is None else chosen)

    def select_trains(self, trains: Any) -> SourceData:
        """A new SourceData for a subset of the trains (any train selector)."""
        return self._derive(tids=select_train_ids(self._tids, trains, stacklevel=3))

    def _only_tids(self, tids: np.ndarray) -> SourceData:
        return self._derive(tids=as_tids(tids))

    def split_trains(self, parts: int | None = None,
                     trains_per_part: int | None = None) -> Iterator[SourceData]:
        """Split into consecutive parts with similar numbers of trains.

        Each part keeps only the files it needs. See
        :meth:`DataCollection.split_trains`.
        """
        owners = trains_files_index(self._tids, self.files, self.inc_suspect_trains)
        for sl in split_positions(len(self._tids), parts, trains_per_part):
            files = sorted({f for f in owners[sl] if f is not None}, key=lambda f: f.filename)
            yield self._derive(tids=self._tids[sl], files=files)

    def drop_empty_trains(self, index_group: str | None = None) -> SourceData:
        """A new SourceData keeping trains with data (in *index_group* if given)."""
        counts = self.data_counts(labelled=False, index_group=index_group)
        return self._derive(tids=self._tids[counts > 0])

    # ---- counts ------------------------------------------------------------------------

    def data_counts(self, labelled: bool = True, index_group: str | None = None) -> Any:
        """Entries per selected train: the largest over the index groups.

        Returns a pandas Series indexed by train ID when *labelled*, else a
        uint64 array matching :attr:`train_ids`. A source without keys
        (RUN values only) has 0 everywhere.

        Raises
        ------
        ValueError
            *index_group* is not a (selected) index group of the source.
        """
        groups = self.index_groups if index_group is None else [index_group]
        counts = np.zeros(len(self._tids), dtype=np.uint64)
        for group in groups:
            key = self.one_key(group)
            if key is not None:
                counts = np.maximum(counts, self._key_data(key).data_counts(labelled=False))
        if labelled:
            import pandas as pd

            return pd.Series(counts.astype(np.int64), index=pd.Index(self._tids))
        return counts

    def train_id_coordinates(self, index_group: str | None = None) -> np.ndarray:
        """Train ID of each entry of the source's data.

        Raises
        ------
        ValueError
            *index_group* is omitted and the groups have different counts.
        """
        if index_group is None:
            groups = sorted(self.index_groups)
            if len(groups) > 1:
                per_group = [self.data_counts(labelled=False, index_group=g) for g in groups]
                if any((c != per_group[0]).any() for c in per_group[1:]):
                    raise ValueError("source has index groups with differing data counts")
            index_group = groups[0]
        key = self.one_key(index_group)
        if key is None:
            return np.zeros(0, dtype=np.uint64)
        return self._key_data(key).train_id_coordinates()

    # ---- files, run values -------------------------------------------------------------

    @cached_property
    def _first_source_file(self) -> FileAccess:
        # A real file is its own source file (RUN-only sources and empty
        # selections included); only a virtual overview file needs resolving.
        if self.files and not self.files[0].is_voview:
            return self.files[0]
        key = self.one_key()
        paths = self._key_data(key).source_file_paths if key is not None else []
        if not paths:
            raise NoDataError(self.source)
        return FileAccess(paths[0])

    @property
    def storage_class(self) -> str | None:
        """``'raw'``, ``'proc'``... from the path of the first file with data."""
        return self._first_source_file.storage_class

    @property
    def data_category(self) -> str | None:
        """``'RAW'`` or ``'CORR'`` from the name of the first file with data."""
        return self._first_source_file.data_category

    @property
    def aggregator(self) -> str | None:
        """Aggregator (``'DA01'``, ``'AGIPD00'``...) of the first file with data."""
        return self._first_source_file.aggregator

    def run_metadata(self) -> dict[str, Any]:
        """METADATA of the run (first file); MultiRunError for several runs."""
        if not self.is_single_run:
            raise MultiRunError()
        return self.files[0].metadata()

    def run_value(self, key: str, *, allow_multi_run: bool = False) -> Any:
        """One RUN value of this source (``.value`` optional).

        Raises
        ------
        MultiRunError
            The data spans several runs (unless *allow_multi_run*).
        ValueError
            The source has no RUN section.
        PropertyNameError
            No such RUN key.
        """
        if not (self.is_single_run or allow_multi_run):
            raise MultiRunError()
        return run_value_of(self.files[0], self.source, key, self.section)

    def run_values(self, inc_timestamps: bool = True) -> dict[str, Any]:
        """All RUN values of this source, including keys not in CONTROL.

        ``inc_timestamps=False`` drops the ``.timestamp`` entries and the
        ``.value`` suffix.
        """
        if not self.is_single_run:
            raise MultiRunError()
        values = self.files[0].get_run_values(self.source)
        if inc_timestamps:
            return values
        return {k[:-6]: v for k, v in values.items() if k.endswith(".value")}

    def run_keys(self, inc_timestamps: bool = True) -> set[str]:
        """Names of the RUN values (not affected by key selection)."""
        if not self.is_single_run:
            raise MultiRunError()
        keys = self.files[0].get_run_keys(self.source)
        if inc_timestamps:
            return keys
        return {k[:-6] for k in keys if k.endswith(".value")}

    @cached_property
    def device_class(self) -> str | None:
        """The Karabo class of the device (RUN ``classId``), or None."""
        try:
            return self.run_value("classId", allow_multi_run=True)
        except (PropertyNameError, ValueError):
            return None

    # ---- combining -----------------------------------------------------------------------

    def union(self, *others: SourceData) -> SourceData:
        """Combine SourceData objects of the same source (e.g. from other runs).

        Raises
        ------
        ValueError
            The sources differ.
        """
        every = (self,) + others
        if len({sd.source for sd in every}) > 1:
            raise ValueError("Cannot use SourceData.union() with different sources")
        key_sets = [sd.sel_keys for sd in every]
        sel = None if None in key_sets else frozenset().union(*key_sets)
        tids = np.unique(np.concatenate([sd._tids for sd in every]))
        files = sorted({f for sd in every for f in sd.files}, key=lambda f: f.filename)
        merged = self._derive(sel_keys=sel, tids=tids, files=files)
        merged.is_single_run = same_run(*every)
        return merged

    __or__ = union

    def __ior__(self, other: SourceData) -> SourceData:
        return self.union(other)


def is_train_selector(item: Any) -> bool:
    """Whether ``data[item]`` means a train selection (not a source or key name)."""
    if isinstance(item, (_Selector, slice, list, np.ndarray)):
        return True
    if type(item).__module__.startswith("xarray"):
        return True
    return isinstance(item, (int, np.integer)) and not isinstance(item, bool)
