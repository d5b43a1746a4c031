"""Plain records of runs that the catalogue takes and returns.

File-level records (:class:`~extra_catalog.records.FileRecord` and its
parts) are defined in :mod:`extra_catalog.records`; this module adds what the
catalogue knows about a whole run. Like those, these are frozen dataclasses
of plain values, never ORM objects.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..records import FileRecord, ProblemRecord

__all__ = ["RunInfo", "UnreadableFile", "RunProblem", "RunRecord", "RunTrains", "RunSummary",
           "FileStat", "ProposalSummary"]

#: ``(size, mtime, inode)`` of a file, as ``os.stat`` gave them when it was read.
FileStat = tuple[int, float, int]


@dataclass(frozen=True)
class RunInfo:
    """What the catalogue records about one run directory as a whole.

    Attributes
    ----------
    instrument, cycle : str
        E.g. ``'SPB'`` and ``'202601'``.
    proposal, run : int
        Proposal and run numbers.
    data_category : str
        ``'raw'``, ``'proc'``... (the folder the run is in).
    path : str
        Absolute path of the run directory; its files must be directly in it.
    first_train, last_train : int or None
        Lowest and highest good train ID of the run (None without trains).
    n_trains : int
        Number of distinct good train IDs.
    n_suspect_trains : int
        Number of distinct train IDs flagged suspect in at least one file
        and good in none (the trains ``inc_suspect_trains=True`` adds).
    format_version, creation_date, update_date, sample, run_type : str or None
        METADATA facts (dates as ``YYYYMMDDTHHMMSSZ``).
    """

    instrument: str
    cycle: str
    proposal: int
    run: int
    data_category: str
    path: str
    first_train: int | None = None
    last_train: int | None = None
    n_trains: int = 0
    n_suspect_trains: int = 0
    format_version: str | None = None
    creation_date: str | None = None
    update_date: str | None = None
    sample: str | None = None
    run_type: str | None = None

    @classmethod
    def from_files(cls, *, instrument: str, cycle: str, proposal: int, run: int,
                   data_category: str, path: str, files: Sequence[FileRecord],
                   decode: Callable[[bytes], Iterable[int]] | None = None) -> RunInfo:
        """Build the run record, taking METADATA facts from its file records.

        Parameters
        ----------
        instrument, cycle, proposal, run, data_category, path
            As the attributes.
        files : sequence of FileRecord
            The readable files of the run.
        decode : callable, optional
            Decodes a per-train blob to integers (``codec.decode`` or a
            wrapper of it). Without it the train range stays unknown, since
            the catalogue cannot look inside blobs by itself.

        Returns
        -------
        RunInfo
            Earliest creation date and latest update date over the files;
            format version, sample and run type of the first file (by path)
            that has them.
        """
        ordered = sorted(files, key=lambda f: f.path)
        metas = [dict(f.metadata) for f in ordered]
        creation = [str(m["creationDate"]) for m in metas if m.get("creationDate")]
        update = [str(m["updateDate"]) for m in metas if m.get("updateDate")]
        first = last = None
        n_trains = n_suspect = 0
        if decode is not None:
            good, suspect = _good_and_suspect_trains(ordered, decode)
            if good:
                first, last, n_trains = min(good), max(good), len(good)
            n_suspect = len(suspect - good)
        return cls(
            instrument=instrument, cycle=cycle, proposal=proposal, run=run,
            data_category=data_category, path=path,
            first_train=first, last_train=last, n_trains=n_trains,
            n_suspect_trains=n_suspect, format_version=ordered[0].format_version if ordered else None,
            creation_date=min(creation) if creation else None,
            update_date=max(update) if update else None,
            sample=_first_text(metas, "sample"),
            run_type=_first_text(metas, "runType"),
        )


def _good_and_suspect_trains(files: Sequence[FileRecord],
                             decode: Callable[[bytes], Iterable[int]]
                             ) -> tuple[set[int], set[int]]:
    """Train IDs flagged good in some file, and those flagged suspect in some file."""
    good: set[int] = set()
    suspect: set[int] = set()
    for record in files:
        train_ids = list(decode(record.train_ids))
        flags = list(decode(record.validity))
        for train_id, flag in zip(train_ids, flags):
            (good if flag else suspect).add(train_id)
    return good, suspect


def _first_text(metas: Sequence[dict[str, object]], name: str) -> str | None:
    for meta in metas:
        value = meta.get(name)
        if value not in (None, ""):
            return str(value)
    return None


@dataclass(frozen=True)
class UnreadableFile:
    """A file of a run that could not be read, and why.

    Kept with its ``os.stat`` values so the crawler does not try it again
    until it changes.
    """

    path: str
    size: int
    mtime: float
    inode: int
    problem: ProblemRecord

    @property
    def name(self) -> str:
        """File name without the directory."""
        return os.path.basename(self.path)


@dataclass(frozen=True)
class RunProblem:
    """A problem the crawler recorded for a run, or for one file of it.

    Problems found while reading a file travel in its
    :attr:`FileRecord.problems <extra_catalog.records.FileRecord.problems>`
    instead.
    """

    problem: ProblemRecord
    path: str | None = None


@dataclass(frozen=True)
class RunTrains:
    """Train facts over all the readable files of a run, stored with its outline.

    Attributes
    ----------
    train_ids, valid_train_ids : bytes
        Encoded (``codec.encode_array``) sorted unions of the files' train
        IDs, all of them and the good ones only.
    disjoint : bool
        Every file's train IDs strictly increase, and the files sharing a
        source name hold disjoint train ranges: no source can have a train
        twice, so opening the whole run need not check.
    """

    train_ids: bytes
    valid_train_ids: bytes
    disjoint: bool


@dataclass(frozen=True)
class RunRecord:
    """A catalogued run with all its files, as :func:`load_run` returns it.

    Attributes
    ----------
    info : RunInfo
    files : tuple of FileRecord
        Readable files, in path order (including files marked changed).
    unreadable : tuple of UnreadableFile
        Files that could not be read, in path order.
    changed : tuple of str
        Paths of files that changed while being read (to read again).
    problems : tuple of RunProblem
        Problems recorded with :func:`record_problem`, in recording order.
    indexed_at : datetime
        When the run was last written (UTC).
    trains : RunTrains or None
        Facts over all the files, when loaded from a stored outline (not
        compared: derived from the rest).
    listing : list of tuple or None
        When loaded from a stored outline: ``(name, size, mtime, inode,
        None)`` per file, as :func:`~extra_catalog.index.scan.list_run_files`
        lists the run directory if nothing changed (not compared either).
    """

    info: RunInfo
    files: tuple[FileRecord, ...]
    unreadable: tuple[UnreadableFile, ...] = ()
    changed: tuple[str, ...] = ()
    problems: tuple[RunProblem, ...] = ()
    indexed_at: datetime | None = None
    trains: RunTrains | None = field(default=None, compare=False, repr=False)
    listing: list[tuple[str, int, float, int, None]] | None = field(
        default=None, compare=False, repr=False)

    def file(self, path_or_name: str) -> FileRecord:
        """Return the record of a file given by path or name (KeyError if absent)."""
        name = os.path.basename(path_or_name)
        for record in self.files:
            if os.path.basename(record.path) == name:
                return record
        raise KeyError(path_or_name)


@dataclass(frozen=True)
class RunSummary:
    """One line of :func:`list_runs`: the run facts and file counts."""

    info: RunInfo
    n_files: int
    indexed_at: datetime


@dataclass(frozen=True)
class ProposalSummary:
    """One line of :func:`~extra_catalog.catalog.store.list_proposals`.

    Attributes
    ----------
    proposal : int
    instrument, cycle : str
    n_runs, n_files : int
        Runs (all data categories) and files stored for the proposal.
    last_crawled : datetime or None
        When a crawl last visited the proposal's directory (UTC).
    """

    proposal: int
    instrument: str
    cycle: str
    n_runs: int
    n_files: int
    last_crawled: datetime | None
