"""DataCollection: sources, keys and trains of one or more runs.

Structure, item access and the conflicting-data check live here; selection
(:mod:`.dcselect`), train iteration (:mod:`.trains`) and the array/table
helpers (:mod:`.dcoutputs`) are mixed in from their own modules.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np

from ..exceptions import ExtraCatalogError, MultiRunError, PropertyNameError, SourceNameError
from ..fileaccess import FileAccess
from ..fileaccess.file_access import prefetch_details
from .aliases import AliasIndexer, AliasMixin, merge_aliases
from .auxiliary import AuxiliaryIndexer
from .catalogued import CataloguedRun, LazySources
from .dcoutputs import OutputsMixin
from .dcselect import SelectionMixin
from .gcpause import gc_paused
from .display import DisplayMixin
from .identity import RunIdentity, run_identities
from .keydata import KeyData, as_tids
from .sourcedata import SourceData, is_train_selector

__all__ = ["DataCollection", "DETECTOR_SOURCE_RE"]

#: Instrument sources of multi-module detectors (``.../DET/<n>CH...``).
DETECTOR_SOURCE_RE = re.compile(r"(.+/(?:DET|CORR))/(\d+)CH")


class DataCollection(SelectionMixin, OutputsMixin, DisplayMixin, AliasMixin):
    """A collection of EuXFEL data: sources with keys, organised by train.

    You normally get one from :func:`H5File`, :func:`RunDirectory` or
    :func:`open_run`.

    Parameters
    ----------
    files : iterable of FileAccess
    sources_data : dict of str to SourceData, optional
        The sources; built from *files* when omitted.
    train_ids : sequence of int, optional
        Selected trains; default every train of the files (only the valid
        ones if not *inc_suspect_trains*).
    aliases : dict, optional
        Aliases (see :meth:`with_aliases`).
    ctx_closes : bool
        Whether a ``with`` block closes the files (collections made by opening).
    inc_suspect_trains : bool
        Keep trains flagged suspect (default).
    is_single_run : bool
        Whether the data is known to come from one run.
    alias_files : list, optional
        The files the aliases came from (shown by ``repr(dc.alias)``).

    Raises
    ------
    ValueError
        A source has data for the same train in two files (or twice in one).
    """

    __iter__ = None  # iterate over .trains(), or over sources explicitly

    def __init__(self, files: Iterable[FileAccess] | CataloguedRun,
                 sources_data: Mapping[str, SourceData] | None = None,
                 train_ids: Any = None, aliases: dict[str, Any] | None = None,
                 ctx_closes: bool = False, *, inc_suspect_trains: bool = True,
                 is_single_run: bool = False, alias_files: Sequence[Any] | None = None,
                 _disjoint: bool = False) -> None:
        # A catalogued run makes its files (and sources) when first used.
        self._catalogued = files if isinstance(files, CataloguedRun) else None
        self._files: list[FileAccess] | None = (
            None if self._catalogued is not None else list(files))
        self.ctx_closes = ctx_closes
        self.inc_suspect_trains = inc_suspect_trains
        self.is_single_run = is_single_run
        self._aliases = merge_aliases([aliases or {}])
        self._alias_files = list(alias_files or [])
        self.alias = AliasIndexer(self)
        if train_ids is None:
            sets = [f.train_ids if inc_suspect_trains else f.valid_train_ids for f in self.files]
            train_ids = np.unique(np.concatenate(sets)) if sets else []
        self._tids = as_tids(train_ids)
        if sources_data is None:
            sources_data = self._initial_sources()
        self._sources_data: Mapping[str, SourceData] = sources_data
        if not _disjoint:  # (known when the catalogue checked these files)
            self._check_source_conflicts()
        self._list_sources(sources_data)

    def _initial_sources(self) -> Mapping[str, SourceData]:
        """Every source of the files: made when looked up for a catalogued run."""
        run = self._catalogued
        if run is None or run.outline.has_legacy:  # (legacy names: read through their files)
            return self._sources_from_files()
        return LazySources(run, self._tids, is_single_run=self.is_single_run,
                           inc_suspect_trains=self.inc_suspect_trains)

    def _list_sources(self, sources_data: Mapping[str, SourceData]) -> None:
        """Set the control, instrument and legacy source names."""
        by_section: dict[str, list[str]] = {"CONTROL": [], "INSTRUMENT": []}
        self.legacy_sources: dict[str, str] = {}
        if isinstance(sources_data, LazySources):  # (only for runs without legacy names)
            for name, section in sources_data.sections().items():
                by_section[section].append(name)
        else:
            for name, sd in sources_data.items():
                listed = by_section.get(sd.section)  # (auxiliary sources are not listed)
                if listed is not None:
                    listed.append(name)
                if sd.canonical_name != name:
                    self.legacy_sources[name] = sd.canonical_name
        self.control_sources = frozenset(by_section["CONTROL"])
        self.instrument_sources = frozenset(by_section["INSTRUMENT"])

    @property
    def files(self) -> list[FileAccess]:
        """The files of the collection, in name order for a run."""
        if self._files is None:
            assert self._catalogued is not None
            self._files = self._catalogued.all_files()
        return self._files

    @files.setter
    def files(self, value: list[FileAccess]) -> None:
        self._files, self._catalogued = list(value), None

    def _files_as_given(self) -> list[FileAccess] | CataloguedRun:
        """What to give a new collection over the same files: lazily made ones stay so."""
        return self._catalogued if self._files is None else self._files  # type: ignore[return-value]

    def _made_files(self) -> list[FileAccess]:
        """The files made so far (a catalogued run makes them when first used)."""
        return self._catalogued.made_files() if self._files is None else self._files  # type: ignore[union-attr]

    def __getstate__(self) -> dict[str, Any]:
        # Pickled with every file and source made: the lazy parts stay here.
        state = self.__dict__.copy()
        if self._files is None or isinstance(self._sources_data, LazySources):
            state.update(_files=self.files, _catalogued=None,
                         _sources_data=dict(self._sources_data.items()))
        return state

    def _sources_from_files(self) -> dict[str, SourceData]:
        by_source: dict[tuple[str, str], list[FileAccess]] = {}
        legacy: dict[str, str] = {}
        ordered: dict[int, list[tuple[str, str]]] = {}  # sorted once per shared set
        for files in _runs_of_same_sources(self.files):
            for names, section in ((files[0].control_sources, "CONTROL"),
                                   (files[0].instrument_sources, "INSTRUMENT")):
                keys = ordered.get(id(names))
                if keys is None:
                    keys = ordered[id(names)] = [(n, section) for n in sorted(names)]
                for key in keys:
                    by_source.setdefault(key, []).extend(files)
            for f in files:
                for old, new in f.legacy_sources.items():
                    # A legacy name reads the canonical source's data through its link.
                    listed = by_source.setdefault((old, f.source_section(new)), [])
                    if not listed or listed[-1] is not f:
                        listed.append(f)
                    legacy[old] = new
        return SourceData._of_run(by_source, legacy, self._tids, is_single_run=self.is_single_run,
                                  inc_suspect_trains=self.inc_suspect_trains)

    def _check_source_conflicts(self) -> None:
        cache: dict[frozenset[str], bool] = {}
        conflicts = []
        for name, sd in self._sources_data.items():
            key = frozenset(f.filename for f in sd.files)
            if key not in cache:
                cache[key] = _repeats_a_train(
                    [f.train_ids if self.inc_suspect_trains else f.valid_train_ids
                     for f in sd.files])
            if cache[key]:
                conflicts.append(name)
        if conflicts:
            raise ValueError(f"{len(conflicts)} sources have conflicting data "
                             f"(same train ID in different files): {', '.join(sorted(conflicts))}")

    # ---- opening ---------------------------------------------------------------------

    @classmethod
    def from_paths(cls, paths: Iterable[str | os.PathLike], _files_map: Any = None, *,
                   inc_suspect_trains: bool = True, is_single_run: bool = False,
                   parallelize: bool = True) -> DataCollection:
        """Open data files; unusable ones are skipped with a message on stderr.

        *parallelize* is accepted for compatibility: reading a file's
        metadata takes milliseconds, so files are read in this process.

        Raises
        ------
        Exception
            "All HDF5 files specified are unusable" when none could be opened
            (as in EXtra-data; it is an :class:`~extra_catalog.exceptions.ExtraCatalogError`).
        """
        files = []
        for path in paths:
            try:
                files.append(FileAccess(path))
            except (ExtraCatalogError, OSError) as exc:
                print(f"Skipping file {os.path.basename(os.fspath(path))}", file=sys.stderr)
                print(f"  (error was: {exc})", file=sys.stderr)
        if not files:
            raise NoUsableFilesError("All HDF5 files specified are unusable")
        return cls(files, ctx_closes=True, inc_suspect_trains=inc_suspect_trains,
                   is_single_run=is_single_run)

    @classmethod
    def from_path(cls, path: str | os.PathLike, *,
                  inc_suspect_trains: bool = True) -> DataCollection:
        """Open one file as a single-run collection."""
        return cls([FileAccess(path)], ctx_closes=True, inc_suspect_trains=inc_suspect_trains,
                   is_single_run=True)

    def __enter__(self) -> DataCollection:
        if not self.ctx_closes:
            raise ExtraCatalogError(
                "Only DataCollection objects created by opening files directly can be used "
                "in a 'with' statement, not those created by selecting from or merging others.")
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.ctx_closes:
            for f in self._made_files():  # (files never made were never opened)
                f.close()

    # ---- structure ---------------------------------------------------------------------

    @property
    def train_ids(self) -> list[np.uint64]:
        """Selected train IDs, sorted (a list of numpy.uint64, as in EXtra-data)."""
        cached = self.__dict__.get("_train_id_list")
        if cached is None:
            cached = self.__dict__["_train_id_list"] = list(self._tids)
        return cached

    @property
    def selection(self) -> dict[str, frozenset[str] | None]:
        """``{source: selected keys}``; None means all keys."""
        return {name: sd.sel_keys for name, sd in self._sources_data.items()}

    @property
    def all_sources(self) -> frozenset[str]:
        """Control and instrument source names."""
        return self.control_sources | self.instrument_sources

    @property
    def detector_sources(self) -> set[str]:
        """Instrument sources of multi-module detectors, without legacy names."""
        return {s for s in self.instrument_sources if DETECTOR_SOURCE_RE.match(s)} \
            - self.legacy_sources.keys()

    @property
    def run_identities(self) -> tuple[RunIdentity, ...]:
        """The runs the selected data comes from: ``(proposal, run, data)`` tuples.

        A union of runs lists each of them; raw and proc data of one run
        (``open_run(..., data='all')``) are two entries.
        """
        return run_identities(self.files)

    @property
    def run_identity(self) -> RunIdentity:
        """The one run this data comes from (see :attr:`run_identities`).

        Raises
        ------
        MultiRunError
            The data comes from several runs (or from raw and proc folders).
        """
        found = self.run_identities
        if len(found) != 1:
            raise MultiRunError()
        return found[0]

    @cached_property
    def auxiliary(self) -> AuxiliaryIndexer:
        """The auxiliary (REDUCTION and ERRATA) sources: ``dc.auxiliary[source]``."""
        return AuxiliaryIndexer(self._tids, self.files, self.is_single_run,
                                self.inc_suspect_trains)

    def __repr__(self) -> str:
        return (f"<extra_data.DataCollection for {len(self.all_sources)} sources "
                f"and {len(self._tids)} trains>")

    def _ipython_key_completions_(self) -> list[str]:
        return list(self.all_sources)

    def _get_source_data(self, source: str) -> SourceData:
        sd = self._sources_data.get(source)
        if sd is None:
            raise SourceNameError(source)
        if sd.is_legacy:
            warnings.warn(f"{source} is a legacy name for {sd.canonical_name}. Access via this "
                          "name will be removed for future data.", DeprecationWarning,
                          stacklevel=3)
        return sd

    def _get_key_data(self, source: str, key: str) -> KeyData:
        return self._get_source_data(source)[key]

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, tuple) and len(item) == 2 and all(isinstance(e, str) for e in item):
            return self._get_key_data(*item)
        if isinstance(item, str):
            return self._get_source_data(item)
        if is_train_selector(item):
            return self.select_trains(item)
        raise TypeError("Expected data[source], data[source, key] or data[train_selection]")

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return item in self._sources_data
        if isinstance(item, tuple) and len(item) == 2 and all(isinstance(e, str) for e in item):
            sd = self._sources_data.get(item[0])
            return sd is not None and item[1] in sd
        return False

    def keys_for_source(self, source: str) -> set[str]:
        """Selected keys of *source* (SourceNameError if absent)."""
        return self._get_source_data(source).keys()

    _keys_for_source = keys_for_source

    def get_entry_shape(self, source: str, key: str) -> tuple[int, ...]:
        """Shape of one entry of *source*/*key*."""
        return self._get_key_data(source, key).entry_shape

    def get_dtype(self, source: str, key: str) -> np.dtype:
        """numpy dtype of *source*/*key*."""
        return self._get_key_data(source, key).dtype

    def _check_field(self, source: str, key: str) -> None:
        if source not in self.all_sources:
            raise SourceNameError(source)
        if key not in self._sources_data[source]:
            raise PropertyNameError(key, source)

    def _prefetch_details(self, sources: Iterable[str]) -> None:
        """Let the catalogue complete these sources in all their files at once.

        For code about to walk several sources through all their files (a
        detector's modules, say): one round trip per source, not one per
        file first used.
        """
        with gc_paused():  # (one pause for all: records for every file of each source)
            for name in sources:
                sd = self._sources_data.get(name)
                if sd is not None and len(sd.files) > 1:
                    prefetch_details(sd.files, sd.canonical_name)

    def _derive(self, sources_data: dict[str, SourceData], train_ids: Any,
                is_single_run: bool | None = None) -> DataCollection:
        """A collection over the given sources, keeping the files they use."""
        used = {f for sd in sources_data.values() for f in sd.files}
        if self._files is None:  # a catalogued run's files are in name order
            files = sorted(used, key=lambda f: f.filename)
        else:
            files = [f for f in self.files if f in used]
            files += sorted(used - set(files), key=lambda f: f.filename)
        # Sources, files and trains taken from this (checked) collection cannot
        # repeat a train: no conflict check again.
        return DataCollection(
            files, sources_data=sources_data, train_ids=train_ids, aliases=self._aliases,
            inc_suspect_trains=self.inc_suspect_trains, alias_files=self._alias_files,
            is_single_run=self.is_single_run if is_single_run is None else is_single_run,
            _disjoint=True)


def _repeats_a_train(per_file: list[np.ndarray]) -> bool:
    """Whether a train ID appears twice in the train IDs of a source's files."""
    arrays = sorted((a for a in per_file if len(a)), key=lambda a: int(a[0]))
    tids = np.concatenate(arrays) if arrays else np.zeros(0, np.uint64)
    # Sequence files hold increasing, disjoint ranges of trains: one pass
    # proves it without hashing (np.unique takes ~20x longer); anything else
    # gets the general check.
    if len(tids) < 2 or bool(np.all(tids[1:] > tids[:-1])):
        return False
    return len(np.unique(tids)) != len(tids)


class NoUsableFilesError(ExtraCatalogError):
    """None of the files given to :meth:`DataCollection.from_paths` could be opened."""


def _runs_of_same_sources(files: list[FileAccess]) -> list[list[FileAccess]]:
    """Consecutive files sharing their control and instrument source sets, in order.

    The sequence files of one aggregator share the same set objects (see
    ``FileAccess.from_records``); a file with legacy names is alone.
    """
    runs: list[list[FileAccess]] = []
    last: tuple[int, int] | None = None
    for f in files:
        key = (id(f.control_sources), id(f.instrument_sources))
        if key == last and not f.legacy_sources:
            runs[-1].append(f)
        else:
            runs.append([f])
            last = None if f.legacy_sources else key
    return runs
