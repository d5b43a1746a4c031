"""Checks across the files of one run, on their records.

A run is split into sequence files per aggregator; two things go wrong
across files that no single file shows: sequence files of one aggregator
that overlap in trains, and one source written by two aggregators for the
same trains (readers then see its data twice, or pick one at random). The
checks work on :class:`~extra_catalog.records.FileRecord` objects, so the
validator and the crawler (which has the records of a run when it writes
it) run the same code. ``run_json_cache``, the catalogue's record against
the files, lives in :mod:`.catalogued`.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np

from ..fileaccess.codec import decode_array
from ..fileaccess.paths import parse_file_name
from ..records import FileRecord, ProblemRecord

__all__ = ["RunCheck", "RUN_CHECKS", "run_run_checks"]

#: ``check(records) -> (file path, problem)`` pairs.
RunCheck = Callable[[Sequence[FileRecord]], Iterable[tuple[str, ProblemRecord]]]

#: Check name -> function, in the order they run and are listed.
RUN_CHECKS: dict[str, RunCheck] = {}


def _register(func: RunCheck) -> RunCheck:
    RUN_CHECKS[func.__name__] = func
    return func


def run_run_checks(records: Sequence[FileRecord],
                   skip: Iterable[str] = ()) -> list[tuple[str, ProblemRecord]]:
    """Run every registered run check not in *skip* on a run's readable files."""
    skipped = set(skip)
    return [found for name, check in RUN_CHECKS.items() if name not in skipped
            for found in check(records)]


def _by_aggregator(records: Sequence[FileRecord]) -> dict[str, list[tuple[int, FileRecord]]]:
    out: dict[str, list[tuple[int, FileRecord]]] = defaultdict(list)
    for rec in records:
        fields = parse_file_name(rec.path)
        if fields and fields["aggregator"] != "OVERVIEW":
            out[str(fields["aggregator"])].append((int(fields["sequence"] or 0), rec))
    return {agg: sorted(files, key=lambda item: item[0]) for agg, files in out.items()}


@_register
def sequence_overlap(records: Sequence[FileRecord]) -> Iterator[tuple[str, ProblemRecord]]:
    """Sequence files of one aggregator must not share train IDs."""
    for agg, files in sorted(_by_aggregator(records).items()):
        ids = [(rec, np.unique(_train_ids(rec))) for _, rec in files]
        for (prev, prev_ids), (rec, rec_ids) in zip(ids, ids[1:]):
            shared = np.intersect1d(prev_ids, rec_ids, assume_unique=True)
            if shared.size:
                yield rec.path, ProblemRecord(
                    "sequence_overlap",
                    f"Sequence files of aggregator {agg} overlap: "
                    f"{os.path.basename(prev.path)} and {os.path.basename(rec.path)} share "
                    f"{shared.size} train IDs ({shared[0]} to {shared[-1]})",
                    dataset="INDEX/trainId", train_id=int(shared[0]),
                    details=(("other_file", prev.path),))


@_register
def source_aggregators(records: Sequence[FileRecord]) -> Iterator[tuple[str, ProblemRecord]]:
    """One source must not have data from two aggregators for the same trains."""
    # source -> aggregator -> (train IDs with data, first file)
    seen: dict[str, dict[str, list[np.ndarray]]] = defaultdict(lambda: defaultdict(list))
    first_file: dict[tuple[str, str], str] = {}
    for agg, files in _by_aggregator(records).items():
        for _, rec in files:
            tids = _train_ids(rec)
            for src in rec.sources:
                with_data = np.zeros(len(tids), dtype=bool)
                for group in src.index_groups:
                    count = decode_array(group.count)[: len(tids)]
                    with_data[: len(count)] |= count > 0
                seen[src.name][agg].append(tids[with_data])
                first_file.setdefault((src.name, agg), rec.path)
    for source, per_agg in sorted(seen.items()):
        aggs = sorted(per_agg)
        for i, a in enumerate(aggs):
            for b in aggs[i + 1:]:
                shared = np.intersect1d(np.concatenate(per_agg[a]), np.concatenate(per_agg[b]))
                if shared.size:
                    yield first_file[(source, b)], ProblemRecord(
                        "source_aggregators",
                        f"Source is written by two aggregators ({a} and {b}) for the same "
                        f"{shared.size} trains ({shared[0]} to {shared[-1]})",
                        source=source, train_id=int(shared[0]),
                        details=(("other_file", first_file[(source, a)]),))


def _train_ids(rec: FileRecord) -> np.ndarray:
    return decode_array(rec.train_ids).astype(np.uint64)
