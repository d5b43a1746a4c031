"""``DataCollection.info()``, ``detector_info()`` and ``train_info()``.

The text is EXtra-data's, line for line, so scripts and eyes used to it keep
working. Everything here comes from metadata (the catalogue, or the files'
INDEX and key records when there is no catalogue): no dataset is read.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import timedelta
from fnmatch import translate
from itertools import groupby
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .collection import DataCollection
    from .sourcedata import SourceData

__all__ = ["DisplayMixin", "NameGroup", "data_counts_text", "info_lines", "key_lines",
           "split_source_name"]

#: Runs of digits or of letters: the parts of a name that may vary in a group.
_PIECE = re.compile(r"(\d+|[a-zA-Z]+)")


def split_source_name(name: str) -> list[str]:
    """Split a source name into fixed and variable parts for grouping.

    The result alternates fixed text (even positions, always first and last)
    and pieces that may differ between members of a group (odd positions).
    The first path component is split into letters and digits; a later
    component that is one piece varies only if it is a number or at most two
    letters (``X``, ``Y``), so ``.../MOTOR/X`` and ``.../MOTOR/Y`` group while
    ``.../CAM`` and ``.../MIC`` do not. The output channel after ``:`` is
    split like the first component.
    """
    path, _, channel = name.partition(":")
    first, *rest = path.split("/")
    parts = _PIECE.split(first)
    for component in rest:
        lead, *pieces = _PIECE.split(component)
        parts[-1] += "/" + lead
        if len(pieces) == 2 and pieces[1] == "":
            piece = pieces[0]
            if not (len(piece) <= 2 or piece.isdigit()):
                parts[-1] += piece  # a long word: part of the fixed text
                continue
        parts.extend(pieces)
    if channel:
        lead, *pieces = _PIECE.split(channel)
        parts[-1] += ":" + lead
        parts.extend(pieces)
    return parts


class NameGroup:
    """Consecutive source names that differ in one variable piece.

    ``SPB_DA1_CTRL/DEV/D000`` ... ``D005`` show as ``SPB_DA1_CTRL/DEV/D{000-005}``;
    ``MOTOR/X``, ``MOTOR/Y`` as ``MOTOR/{X, Y}``.
    """

    def __init__(self) -> None:
        self.members: list[list[str]] = []

    def __bool__(self) -> bool:
        return bool(self.members)

    def add(self, name: str) -> bool:
        """Add *name* if it fits the group; return whether it was added."""
        parts = split_source_name(name)
        if not self.members:
            self.members.append(parts)
            return True
        first, last = self.members[0], self.members[-1]
        if len(parts) != len(first):
            return False
        changed = [i for i, (a, b) in enumerate(zip(last, parts)) if a != b]
        if len(changed) != 1 or changed[0] % 2 == 0:
            return False
        # From the third member on, the piece that changes must be the one
        # that has been changing (EXtra-data checks only from there).
        if len(self.members) > 2 and last[changed[0]] == first[changed[0]]:
            return False
        self.members.append(parts)
        return True

    def _numeric(self) -> bool:
        if len(self.members) < 2:
            return False
        a, b = self.members[0], self.members[1]
        at = next(i for i, (x, y) in enumerate(zip(a, b)) if x != y)
        return all(parts[at].isdigit() for parts in self.members)

    def __str__(self) -> str:
        numeric = self._numeric()
        text = []
        for values in zip(*self.members):
            distinct = set(values)
            if len(distinct) == 1:
                text.append(values[0])
            elif numeric and all(v.isdigit() for v in distinct):
                text.append("{" + ", ".join(_number_ranges(distinct)) + "}")
            else:
                text.append("{" + ", ".join(sorted(distinct)) + "}")
        return "".join(text)


def _number_ranges(numbers: Iterable[str]) -> list[str]:
    """``'1' '2' '3' '5'`` -> ``['1-3', '5']``, keeping each number's digits."""
    ranges: list[list[str]] = []
    for number in sorted(numbers, key=int):
        if ranges and int(number) == int(ranges[-1][1]) + 1:
            ranges[-1][1] = number
        else:
            ranges.append([number, number])
    return [a if a == b else f"{a}-{b}" for a, b in ranges]


def _duration(train_ids: Sequence[Any]) -> str:
    if not len(train_ids):
        return "0.0"
    seconds, tenths = divmod(int(train_ids[-1]) - int(train_ids[0]) + 1, 10)
    try:
        return f"{timedelta(seconds=seconds)}.{tenths}"
    except OverflowError:
        return "OverflowError (one or more train IDs are probably wrong)"


def _trains_lines(dc: DataCollection) -> list[str]:
    tids = dc.train_ids
    first, last = (tids[0], tids[-1]) if len(tids) else ("-", "-")
    return [f"# of trains:    {len(tids)}", f"Duration:       {_duration(tids)}",
            f"First train ID: {first}", f"Last train ID:  {last}", ""]


def data_counts_text(sd: SourceData, index_group: str) -> str:
    """``data for N trains (P%), a–b entries per train`` for one index group."""
    counts = np.asarray(sd.data_counts(labelled=False, index_group=index_group))
    counts = counts[counts > 0]
    low, high = (counts.min(), counts.max()) if counts.size else (0, 0)
    span = f"{low}" if low == high else f"{low}–{high}"
    n_trains = len(sd.train_ids)
    share = counts.size / n_trains if n_trains else 0.0
    return f"data for {counts.size} trains ({share:.2%}), {span} entries per train"


class _Report:
    """The lines of ``info()`` for one collection and set of options."""

    def __init__(self, dc: DataCollection, details_for_sources: Iterable[str] = (),
                 with_aggregators: bool = False, data_counts: bool = False,
                 group_sources: bool = True) -> None:
        self.dc = dc
        self.detail_patterns = [re.compile(translate(p)) for p in details_for_sources]
        self.with_aggregators = with_aggregators
        self.data_counts = data_counts
        self.group = group_sources and not (with_aggregators or data_counts)
        self.source_aliases: dict[str, list[str]] = {}
        self.key_aliases: dict[str, dict[str, list[str]]] = {}
        for alias, target in sorted(getattr(dc, "_aliases", {}).items()):
            if isinstance(target, str):
                self.source_aliases.setdefault(target, []).append(alias)
            else:
                source, key = target
                self.key_aliases.setdefault(source, {}).setdefault(key, []).append(alias)

    # -- sections --------------------------------------------------------------------
    def lines(self) -> Iterator[str]:
        yield from _trains_lines(self.dc)
        if not (self.detail_patterns or self.data_counts):
            yield from self._detectors()
        yield from self._instrument()
        yield from self._control()
        if self.dc.legacy_sources:
            yield from self._legacy()

    def _detectors(self) -> Iterator[str]:
        from .collection import DETECTOR_SOURCE_RE

        by_detector: dict[str, dict[str, str]] = {}
        for source in self.dc.detector_sources:
            match = DETECTOR_SOURCE_RE.match(source)
            assert match is not None  # detector_sources all match
            by_detector.setdefault(match[1], {})[match[2]] = source
        for name in sorted(by_detector):
            modules = by_detector[name]
            yield f"{len(modules)} XTDF detector modules of {name}/*"
            number = sorted(modules)[0]
            info = self.dc.detector_info(modules[number])
            # EXtra-data spaces out the digits of the module number.
            yield f"  e.g. module {' '.join(number)} : {' x '.join(map(str, info['dims']))} pixels"
            yield f"  {modules[number]}"
            yield (f"  {info['frames_per_train']} frames per train, "
                   f"up to {info['total_frames']} frames total")
            yield ""

    def _instrument(self) -> Iterator[str]:
        shown = set(self.dc.instrument_sources) - self.dc.legacy_sources.keys()
        if self.detail_patterns or self.data_counts:
            yield f"{len(shown)} instrument sources:"
        else:
            shown -= self.dc.detector_sources
            yield f"{len(shown)} instrument sources (excluding XTDF detectors):"
        yield from self._listing(shown, self._instrument_detail, self.data_counts)
        yield ""

    def _control(self) -> Iterator[str]:
        yield f"{len(self.dc.control_sources)} control sources:"
        yield from self._listing(self.dc.control_sources, self._control_detail, False)
        yield ""

    def _legacy(self) -> Iterator[str]:
        from .collection import DETECTOR_SOURCE_RE

        legacy = self.dc.legacy_sources
        yield f"{len(legacy)} legacy source names:"
        detectors: dict[str, list[str]] = {}
        for name in sorted(legacy):
            match = DETECTOR_SOURCE_RE.match(name)
            if match is None:
                yield f" - {name} -> {legacy[name]}"
            else:
                detectors.setdefault(match[1], []).append(name)
        for old, names in detectors.items():
            new = DETECTOR_SOURCE_RE.match(legacy[names[0]])
            target = new[1] if new is not None else legacy[names[0]]
            yield f" - {old}/* -> {target}/* ({len(names)})"
        yield ""

    # -- listing sources ---------------------------------------------------------------
    def _listing(self, sources: Iterable[str], detail: Callable[[str], Iterator[str]],
                 counts: bool) -> Iterator[str]:
        group = NameGroup()
        for source in sorted(sources):
            detailed = any(p.match(source) for p in self.detail_patterns)
            if self.group and not detailed and source not in self.source_aliases:
                if not group.add(source):
                    yield f"  - {group}"
                    group = NameGroup()
                    group.add(source)
                continue
            if group:
                yield f"  - {group}"
                group = NameGroup()
            yield self._source_line(source)
            if detailed:
                yield from detail(source)
            elif counts:
                yield from self._counts(source)
        if group:
            yield f"  - {group}"

    def _source_line(self, source: str) -> str:
        tag = f" [{self.dc[source].aggregator}]" if self.with_aggregators else ""
        aliases = self.source_aliases.get(source)
        alias_text = f"<{', '.join(aliases)}>" if aliases else ""
        return f"  -{tag} {source} {alias_text}"

    def _counts(self, source: str) -> Iterator[str]:
        sd = self.dc[source]
        groups = sorted(sd.index_groups)
        if len(groups) == 1:
            yield f"    {data_counts_text(sd, groups[0])}"
        else:
            for group in groups:
                yield f"    {group}: {data_counts_text(sd, group)}"

    def _instrument_detail(self, source: str) -> Iterator[str]:
        sd = self.dc[source]
        for group, keys in groupby(sorted(sd.keys()), key=lambda k: k.split(".")[0]):
            yield f"    - {group}:"
            yield f"      {data_counts_text(sd, group)}"
            yield from (f"      {line}" for line in self._key_lines(sd, list(keys)))

    def _control_detail(self, source: str) -> Iterator[str]:
        sd = self.dc[source]
        keys = sorted(sd.keys(inc_timestamps=False))
        yield "    - Control keys (1 entry per train):"
        yield from (f"      {line}" for line in self._key_lines(sd, keys))
        run_values = sd.run_values(inc_timestamps=False)
        extra = sorted(set(run_values) - set(keys))
        if extra:
            yield "    - Additional run keys (1 entry per run):"
            for key in extra:
                value = run_values[key]
                if isinstance(value, str):
                    dtype, shape = "string", ()
                else:
                    dtype, shape = np.asarray(value).dtype, np.shape(value)
                shape_text = f", entry shape {shape}" if shape else ""
                yield f"      - {key}{self._key_alias_text(source, key)}\t[{dtype}{shape_text}]"

    def _key_lines(self, sd: SourceData, keys: Sequence[str]) -> Iterator[str]:
        return key_lines(sd, keys, self.key_aliases.get(sd.source))

    def _key_alias_text(self, source: str, key: str) -> str:
        return _alias_text(self.key_aliases.get(source, {}).get(key))


def _alias_text(aliases: Sequence[str] | None) -> str:
    return f" <{', '.join(aliases)}>" if aliases else ""


def key_lines(sd: SourceData, keys: Sequence[str],
              aliases: dict[str, list[str]] | None = None) -> Iterator[str]:
    """``- key <alias>\t[dtype, entry shape (...)]`` for each of *keys* of *sd*."""
    for key in keys:
        kd = sd[key]
        shape = f", entry shape {kd.entry_shape}" if kd.entry_shape else ""
        yield f"- {key}{_alias_text((aliases or {}).get(key))}\t[{kd.dtype}{shape}]"


def info_lines(dc: DataCollection, details_for_sources: Iterable[str] = (), *,
               counts: bool = False, group_sources: bool = True,
               with_aggregators: bool = False) -> list[str]:
    """The lines :meth:`DisplayMixin.info` prints (auxiliary section aside)."""
    return list(_Report(dc, details_for_sources, with_aggregators, counts,
                        group_sources).lines())


class DisplayMixin:
    """Summaries of a :class:`~extra_catalog.reader.collection.DataCollection`."""

    def info(self, details_for_sources: Iterable[str] = (), *, counts: bool = False,
             group_sources: bool = True, with_aggregators: bool = False,
             with_auxiliary: bool = False) -> None:
        """Print a summary of the selected data, as EXtra-data does.

        Parameters
        ----------
        details_for_sources : list of str
            Glob patterns of sources to show keys (with dtype and entry shape)
            and data counts for.
        counts : bool
            Show data counts for every instrument source.
        group_sources : bool
            Group similar source names (``DEV/D{000-005}``); off with
            *counts* or *with_aggregators*.
        with_aggregators : bool
            Show the data aggregator that recorded each source.
        with_auxiliary : bool
            Also list auxiliary (REDUCTION and ERRATA) sources.
        """
        for line in info_lines(self, details_for_sources, counts=counts,  # type: ignore[arg-type]
                               group_sources=group_sources, with_aggregators=with_aggregators):
            print(line)
        if with_auxiliary:
            self.auxiliary.info(details_for_sources=details_for_sources,  # type: ignore[attr-defined]
                                with_aggregators=with_aggregators)

    def plot_missing_data(self, min_saved_pct: float = 95,
                          expand_instrument: bool = False) -> Any:
        """Plot the sources with data for at most *min_saved_pct* % of the trains.

        Each source is a bar over the trains: pink where it has data, black
        where it does not; labels use aliases where defined. With
        *expand_instrument*, each index group of an instrument source gets its
        own bar. Needs matplotlib; returns the ``Axes``.
        """
        from .missing import plot_missing_data

        return plot_missing_data(self, min_saved_pct, expand_instrument)  # type: ignore[arg-type]

    def detector_info(self, source: str) -> dict[str, Any]:
        """Pixel dimensions and frame counts of one detector module source.

        Returns a dict with ``dims`` (the last two dimensions of
        ``image.data``), ``frames_per_train`` (from the first file of the
        source) and ``total_frames`` (that times the number of trains).
        """
        dc: Any = self
        sd = dc._get_source_data(source)
        file0 = min(sd.files, key=lambda fa: fa.filename)
        _, counts = file0.get_index(source, "image")
        found = set(counts.tolist()) - {0}
        if len(found) > 1:
            warnings.warn(f"Varying number of frames per train: {found}", stacklevel=2)
        per_train = min(found) if found else 0
        key = file0.key_info(source, "image.data")
        dims = ((key.length,) + tuple(key.entry_shape))[-2:]
        return {"dims": dims, "frames_per_train": per_train,
                "total_frames": per_train * len(dc.train_ids)}

    def train_info(self, train_id: int) -> None:
        """Print the instrument and control sources that have data for one train.

        Raises
        ------
        ValueError
            *train_id* is not among the selected trains.
        """
        dc: Any = self
        if train_id not in dc.train_ids:
            raise ValueError(f"train {train_id} not found in run.")
        files = [f for f in dc.files
                 if f.has_train_ids(np.array([train_id], dtype=np.uint64),
                                    dc.inc_suspect_trains)]
        sections = (("Instruments", set().union(*(f.instrument_sources for f in files))),
                    ("Controls", set().union(*(f.control_sources for f in files))))
        print(f"Train [{train_id}] information")
        print("Devices")
        for title, names in sections:
            print(f"\t{title}")
            for name in sorted(names) or [""]:
                print(f"\t- {name}" if name else "\t-")
