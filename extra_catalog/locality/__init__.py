"""Storage locality of data files (dCache), as EXtra-data's ``extra_data.locality``.

Files on dCache may be on disk, only on tape (reading them stages them from
tape first, which can take hours) or unavailable. The file filters here keep
only the files that can be read now::

    from extra_catalog import open_run
    from extra_catalog.locality import lc_ondisk

    run = open_run(900001, 5, file_filter=lc_ondisk)   # skips files only on tape

Each skipped file is named on stderr with the reason. When the run is in
the catalogue, :func:`lc_ondisk`, :func:`lc_avail`, :func:`lc_any` and
``functools.partial(lc_match, accept=...)`` are answered from the locality
the crawler recorded, without asking dCache (see :doc:`/locality`).

Unlike EXtra-data, no call here can hang: each pseudo-file read has a
deadline (:data:`DEFAULT_TIMEOUT`), and a file whose locality cannot be
read in time gets the state :data:`TIMEOUT` (an unknown locality).
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from ..fileaccess.locality import (
    ANY,
    DC_LOC_RESP,
    ERROR,
    LOCMSG,
    NOT_ON_DCACHE,
    ON_DISK_STATES,
    ONDISK,
    ONTAPE,
    TIMEOUT,
    UNAVAIL,
    is_pseudo_name,
    locality_code,
    read_locality,
)
from ..fileaccess.locality import report_skipped as _report
from ._threads import map_with_deadline

__all__ = [
    "UNAVAIL", "ONTAPE", "ONDISK", "ANY", "DC_LOC_RESP", "LOCMSG", "NOT_ON_DCACHE",
    "ON_DISK_STATES", "TIMEOUT", "ERROR", "DEFAULT_TIMEOUT",
    "get_locality", "list_locality", "partition", "print_counts", "silent",
    "lc_match", "lc_any", "lc_ondisk", "lc_avail", "check_dir", "main",
]

#: Seconds one pseudo-file read may take before the locality counts as unknown.
DEFAULT_TIMEOUT = 10.0
#: Pseudo-files read at the same time.
_WORKERS = 16

P = TypeVar("P", str, os.PathLike)


def get_locality(path: P, timeout: float | None = None) -> tuple[P, str]:
    """The locality of one file: ``(path, state)``.

    Parameters
    ----------
    path : str or path
    timeout : float, optional
        Seconds to wait for dCache (default :data:`DEFAULT_TIMEOUT`).

    Returns
    -------
    (path, str)
        *path* as given, and ``'ONLINE'``, ``'NEARLINE'``,
        ``'ONLINE_AND_NEARLINE'``, ``'UNAVAILABLE'``... as dCache says,
        ``'NOT_ON_DCACHE'`` when there is no pseudo-file (the file is on
        disk), :data:`TIMEOUT` or :data:`ERROR` when it cannot be known.
    """
    return next(list_locality([path], timeout))


def _state(outcome: Any) -> str:
    if outcome.timed_out:
        return TIMEOUT
    if outcome.error is not None:
        return ERROR
    return str(outcome.value)


def _timeout(timeout: float | None) -> float:
    return DEFAULT_TIMEOUT if timeout is None else timeout


def list_locality(files: Iterable[P], timeout: float | None = None) -> Iterator[tuple[P, str]]:
    """``(path, state)`` of each file, in the order the answers come.

    Up to 16 pseudo-files are read at once, each with *timeout* seconds
    (default :data:`DEFAULT_TIMEOUT`).
    """
    for outcome in map_with_deadline(read_locality, files, _timeout(timeout), _WORKERS):
        yield outcome.item, _state(outcome)


def print_counts(fpart: dict[str, list[Any]]) -> None:
    """Print how many files are on disk, only on tape and unavailable so far."""
    n_ondisk = sum(len(fpart.get(state, ())) for state in ON_DISK_STATES)
    print(f"{n_ondisk} on disk, {len(fpart.get('NEARLINE', ()))} only on tape, "
          f"{len(fpart.get('UNAVAILABLE', ()))} unavailable    ", end="\r", flush=True)


def silent(fpart: dict[str, list[Any]]) -> None:
    """A progress callback that prints nothing."""


def partition(files: Iterable[P], cb_disp: Callable[[dict[str, list[P]]], None] = silent,
              timeout: float | None = None) -> defaultdict[str, list[P]]:
    """Group files by locality state: ``{state: [paths]}``.

    ``cb_disp(groups_so_far)`` is called after each answer (e.g.
    :func:`print_counts`).
    """
    groups: defaultdict[str, list[P]] = defaultdict(list)
    for path, state in list_locality(files, timeout):
        groups[state].append(path)
        cb_disp(groups)
    return groups


def report_skipped(path: Any, state: str, timeout: float | None = None) -> None:
    """Say on stderr that a file is left out because of its locality, as EXtra-data does."""
    _report(path, state, _timeout(timeout))


def lc_match(files: Sequence[P], accept: int = ONDISK,
             timeout: float | None = None) -> list[P]:
    """The files whose locality code has a bit of *accept*, in the given order.

    Each file left out is named on stderr with the reason.

    Parameters
    ----------
    files : sequence of str or path
    accept : int
        A mask of :data:`UNAVAIL`, :data:`ONTAPE`, :data:`ONDISK`.
    timeout : float, optional
        Seconds to wait for dCache per file (default :data:`DEFAULT_TIMEOUT`);
        no answer is an unknown locality, which no mask accepts.
    """
    states = dict(list_locality(list(dict.fromkeys(files)), timeout))
    kept = []
    for path in files:
        if locality_code(states[path]) & accept:
            kept.append(path)
        else:
            report_skipped(path, states[path], timeout)
    return kept


def lc_any(files: Sequence[P]) -> Sequence[P]:
    """All the files, without asking dCache."""
    return files


def lc_ondisk(files: Sequence[P]) -> list[P]:
    """The files on disk, leaving out those that would be read from tape."""
    return lc_match(files, ONDISK)


def lc_avail(files: Sequence[P]) -> list[P]:
    """The files on disk or on tape, leaving out those dCache says are unavailable."""
    return lc_match(files, ONTAPE | ONDISK)


# The filters the reader may answer from the catalogue's recorded locality
# (lc_any needs no answer at all).
lc_ondisk.catalog_accept = ONDISK  # type: ignore[attr-defined]
lc_avail.catalog_accept = ONTAPE | ONDISK  # type: ignore[attr-defined]
lc_match.catalog_accept = ONDISK  # type: ignore[attr-defined]


def _files_in(path: str) -> list[str]:
    """The regular files of a directory (without dCache pseudo-files), or the file itself."""
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if not is_pseudo_name(n))
        return [p for p in (os.path.join(path, n) for n in names) if os.path.isfile(p)]
    return [path] if os.path.isfile(path) else []


def check_dir(basedir: str, timeout: float | None = None) -> int:
    """Print the locality of the files in *basedir* (or of one file); return the exit status.

    Returns
    -------
    int
        A bit mask: 1 if some files are only on tape, 2 if some are
        unavailable, 4 if the locality of some is unknown; 0 if every file
        is on disk.
    """
    files = _files_in(basedir)
    print(f"Checking {len(files)} files in {basedir}")
    live = sys.stdout.isatty()
    groups = partition(files, print_counts if live else silent, timeout)
    if not live:
        print_counts(groups)
    print("")
    status = 0
    for bit, title, state in ((1, "Only on tape:", "NEARLINE"),
                              (2, "Unavailable:", "UNAVAILABLE")):
        if groups.get(state):
            status |= bit
            print(title)
            for path in sorted(groups[state]):
                print(f"  {path}")
    unknown = sorted((p, s) for s, paths in groups.items() if s not in DC_LOC_RESP
                     for p in paths)
    if unknown:
        status |= 4
        print("Unknown locality:")
        for path, state in unknown:
            print(f"  {path} ({state})")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """``extra-data-locality PATH``; returns the exit status (255 if PATH does not exist)."""
    from ..cli.locality import run_locality

    return run_locality(argv)
