"""The trains a server streams: read one by one, surviving files that vanish.

:func:`stream_trains` yields what ``DataCollection.trains()`` yields, but a
data file that cannot be read any more (deleted, replaced, damaged since
the run was opened) does not end the stream: it is reported once and its
sources are left out of the trains it held (or, when every source must be
present, those trains are skipped).
"""

from __future__ import annotations

import heapq
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..exceptions import DataFileError
from ..reader import DataCollection, TrainIterator
from ._stacking import append_modules, find_detector_modules
from .protocol import drop_object_arrays

__all__ = ["stream_trains", "merge_runs", "report_to_stderr"]

Train = tuple[int, dict[str, dict[str, Any]]]


def report_to_stderr(message: str) -> None:
    """The default reporter: one line on standard error."""
    print(message, file=sys.stderr, flush=True)


class _LostFiles:
    """Files that failed mid-stream, and which sources of which trains they held."""

    def __init__(self, data: DataCollection) -> None:
        self.data = data
        self.lost: list[tuple[set[int], frozenset[str]]] = []
        self.paths: set[str] = set()
        self._iterators: dict[frozenset[str], TrainIterator] = {}

    def add(self, error: DataFileError) -> bool:
        """Record the file of *error*; False if it is not one of the data's files."""
        files = [fa for fa in self.data.files if fa.filename == error.path]
        if not files or error.path in self.paths:
            return False
        fa = files[0]
        self.paths.add(error.path)
        sources = frozenset(fa.all_sources) & self.data.all_sources
        self.lost.append(({int(t) for t in fa.train_ids}, sources))
        return True

    def missing_sources(self, tid: int) -> frozenset[str]:
        """Selected sources whose data for train *tid* was in a lost file."""
        return frozenset().union(*(s for tids, s in self.lost if tid in tids))

    def iterator(self, without: frozenset[str]) -> TrainIterator | None:
        """Train reader for the data minus *without* (None if nothing is left)."""
        if without not in self._iterators:
            kept = self.data.all_sources - without
            if not kept:
                return None
            self._iterators[without] = TrainIterator(
                self.data.deselect([(src, "*") for src in sorted(without)]),
                require_all=False)
        return self._iterators[without]


def stream_trains(data: DataCollection, *, require_all: bool = False,
                  append_detector_modules: bool = False,
                  report: Callable[[str], None] = report_to_stderr) -> Iterator[Train]:
    """Yield ``(train_id, data)`` for every train of *data* that has data to send.

    Parameters
    ----------
    data : DataCollection
        Sources, keys and trains already selected.
    require_all : bool
        Skip trains that lost a source to a file failing mid-stream.
    append_detector_modules : bool
        Combine AGIPD/DSSC/LPD module sources into ``<detector>/DET/APPEND``.
    report : callable
        Called with a one-line message for every file that fails.

    Arrays of Python objects (strings) are left out, as the protocol cannot
    carry them. Trains without any source are skipped.
    """
    detector = find_detector_modules(data.all_sources) if append_detector_modules else None
    full = TrainIterator(data, require_all=False)
    lost = _LostFiles(data)
    for tid in map(int, data.train_ids):
        while True:
            missing = lost.missing_sources(tid)
            if missing and require_all:
                train = None
                break
            reader = lost.iterator(missing) if missing else full
            if reader is None:
                train = None
                break
            try:
                train = reader.assemble(tid)
                break
            except DataFileError as exc:
                if not lost.add(exc):
                    raise
                report(f"Skipping {exc.path} from train {tid} on: {exc.problem}")
        if not train:
            continue
        drop_object_arrays(train)
        if detector is not None:
            append_modules(train, detector)
        yield tid, train


def merge_runs(runs: Iterable[tuple[int, int, Callable[[], Iterator[Train]]]]
               ) -> Iterator[Train]:
    """Chain per-run train streams into one stream in train ID order.

    Parameters
    ----------
    runs : iterable of (first train ID, last train ID, stream factory)
        Each factory makes the run's stream when it is needed.

    Runs that follow each other are streamed one after the other, so only
    one run is read at a time; runs whose train ranges overlap (e.g. two
    instruments at once) are merged train by train.
    """
    pending = sorted(runs, key=lambda r: (r[0], r[1]))
    group: list[Callable[[], Iterator[Train]]] = []
    group_end = -1
    for first, last, factory in pending:
        if group and first > group_end:
            yield from _merged(group)
            group = []
        group.append(factory)
        group_end = max(group_end, last) if len(group) > 1 else last
    if group:
        yield from _merged(group)


def _merged(factories: list[Callable[[], Iterator[Train]]]) -> Iterator[Train]:
    if len(factories) == 1:
        return factories[0]()
    return heapq.merge(*(f() for f in factories), key=lambda item: item[0])
