"""Auxiliary sources (REDUCTION and ERRATA sections): ``DataCollection.auxiliary``.

Auxiliary sources are listed in ``METADATA/auxiliarySources`` and live in the
top-level ``REDUCTION/`` and ``ERRATA/`` sections, indexed like instrument
sources. The same name may be written by several aggregators; then each copy
is named ``AGGREGATOR@source``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from fnmatch import translate
from itertools import groupby
from typing import Any

from ..exceptions import SourceNameError
from ..fileaccess import FileAccess
from .keydata import KeyData
from .sourcedata import SourceData

__all__ = ["AuxiliaryIndexer"]

_SECTIONS = (("REDUCTION", "reduction_sources"), ("ERRATA", "errata_sources"))


def _names(files: Iterable[FileAccess]) -> Iterator[tuple[str, str, dict[str, list[FileAccess]]]]:
    """``(source, section, {aggregator: files})`` for each auxiliary source."""
    found: dict[tuple[str, str], dict[str, list[FileAccess]]] = {}
    for fa in files:
        for section, attribute in _SECTIONS:
            for source in getattr(fa, attribute):
                found.setdefault((source, section), {}).setdefault(
                    fa.aggregator or "", []).append(fa)
    for (source, section), by_aggregator in found.items():
        yield source, section, by_aggregator


def _needs_prefix(source: str, by_aggregator: dict[str, list[FileAccess]]) -> bool:
    """Whether *source* must be named ``AGG@source``.

    A plain name is kept only when one aggregator has the source and it ends
    with the name of a real source of that aggregator's files (e.g.
    ``PULSE_REDUCTION/<detector source>``).
    """
    if len(by_aggregator) != 1:
        return True
    files = next(iter(by_aggregator.values()))
    return not any(source.endswith(real) for fa in files for real in fa.all_sources)


class AuxiliaryIndexer:
    """Item access to the auxiliary sources of a collection (``dc.auxiliary``).

    ``aux[source]`` gives a :class:`SourceData`, ``aux[source, key]`` a
    :class:`KeyData`, for the collection's trains.
    """

    def __init__(self, train_ids: Any, files: Sequence[FileAccess], is_single_run: bool,
                 inc_suspect_trains: bool) -> None:
        self._sources_data: dict[str, SourceData] = {}
        for source, section, by_aggregator in _names(files):
            prefix = _needs_prefix(source, by_aggregator)
            for aggregator, agg_files in by_aggregator.items():
                name = f"{aggregator}@{source}" if prefix else source
                self._sources_data[name] = SourceData(
                    source, sel_keys=None, train_ids=train_ids, files=agg_files,
                    section=section, canonical_name=source, is_single_run=is_single_run,
                    inc_suspect_trains=inc_suspect_trains)

    @property
    def reduction_sources(self) -> frozenset[str]:
        """Names of the REDUCTION sources."""
        return frozenset(n for n, sd in self._sources_data.items() if sd.is_reduction)

    @property
    def errata_sources(self) -> frozenset[str]:
        """Names of the ERRATA sources."""
        return frozenset(n for n, sd in self._sources_data.items() if sd.is_errata)

    @property
    def all_sources(self) -> frozenset[str]:
        """Names of every auxiliary source."""
        return frozenset(self._sources_data)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, tuple) and len(item) == 2 and all(isinstance(e, str) for e in item):
            return item[0] in self._sources_data and item[1] in self._sources_data[item[0]]
        return isinstance(item, str) and item in self._sources_data

    def __getitem__(self, item: str | tuple[str, str]) -> SourceData | KeyData:
        if isinstance(item, tuple) and len(item) == 2 and all(isinstance(e, str) for e in item):
            return self._source(item[0])[item[1]]
        if isinstance(item, str):
            return self._source(item)
        raise TypeError("Expected data.auxiliary[source] or data.auxiliary[source, key]")

    def _source(self, source: str) -> SourceData:
        sd = self._sources_data.get(source)
        if sd is not None:
            return sd
        if source in {name.partition("@")[2] for name in self._sources_data}:
            message = (f"This data has one or more duplicates of an auxiliary source named "
                       f"{source!r}.\nSee data.auxiliary.all_sources for available prefixes.")
        else:
            message = (f"This data has no auxiliary source named {source!r}.\nSee "
                       "data.auxiliary.all_sources for available auxiliary sources.")
        raise SourceNameError(source, message)

    def __str__(self) -> str:
        n_trains = (len(next(iter(self._sources_data.values())).train_ids)
                    if self._sources_data else 0)
        return (f"<extra_data.AuxiliaryIndexer for {len(self._sources_data)} sources and "
                f"{n_trains} trains>")

    def __repr__(self) -> str:
        return "\n".join([*self._lines("reduction", self.reduction_sources), "",
                          *self._lines("errata", self.errata_sources), ""])

    def info(self, details_for_sources: Iterable[str] = (), with_aggregators: bool = False
             ) -> None:
        """Print the reduction and errata sources (keys of those matching *details_for_sources*)."""
        for line in [*self._lines("reduction", self.reduction_sources, details_for_sources,
                                  with_aggregators), "",
                     *self._lines("errata", self.errata_sources, details_for_sources,
                                  with_aggregators)]:
            print(line)

    def _lines(self, label: str, names: Iterable[str], details_for_sources: Iterable[str] = (),
               with_aggregators: bool = False) -> Iterator[str]:
        from .display import data_counts_text, key_lines

        patterns = [re.compile(translate(p)) for p in details_for_sources]
        names = sorted(names)
        yield f"{len(names)} {label} sources:"
        for name in names:
            sd = self._sources_data[name]
            tag = f" [{sd.aggregator}]" if with_aggregators else ""
            yield f"  - {tag} {name}"
            if any(p.match(name) for p in patterns):
                for group, keys in groupby(sorted(sd.keys()), key=lambda k: k.split(".")[0]):
                    yield f"    - {group}:"
                    yield f"      {data_counts_text(sd, group)}"
                    yield from (f"      {line}" for line in key_lines(sd, list(keys)))
