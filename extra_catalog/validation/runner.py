"""Check files in worker processes, each with a deadline.

A file on tape (or a damaged file system) can block a read for hours; a
damaged file can crash libhdf5. Each file is therefore checked in a worker
process of a :class:`~extra_catalog.index.pool.DeadlinePool`: a file that
does not answer in time, or kills its worker, is reported as a problem and
the other files carry on.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..exceptions import (DataFileError, DataFileNotFoundError, DataFilePermissionError,
                          ExtraCatalogError)
from ..records import FileRecord, ProblemRecord
from .checks import FileContext, run_file_checks

__all__ = ["FileOutcome", "DEFAULT_TIMEOUT", "check_file", "check_open_file", "check_files",
           "ACCESS_MSG", "OPEN_MSG"]

#: Seconds one file may take before it is reported as hanging.
DEFAULT_TIMEOUT = 60.0

#: EXtra-data's messages for a file that cannot be read at all.
ACCESS_MSG = "Could not access file"
OPEN_MSG = "Could not open HDF5 file"

Progress = Callable[[int, int, int], None]


@dataclass(frozen=True)
class FileOutcome:
    """The result of checking one file.

    Attributes
    ----------
    path : str
    record : FileRecord or None
        The file's record (its ``problems`` are the check results), None if
        the file could not be read.
    problems : tuple of ProblemRecord
        What is wrong with the file.
    """

    path: str
    record: FileRecord | None
    problems: tuple[ProblemRecord, ...]


def _unreadable(path: str, message: str, error: str) -> FileOutcome:
    check = "file_access" if message == ACCESS_MSG else "file_open"
    return FileOutcome(path, None, (ProblemRecord(check, message, details=(("error", error),)),))


def check_open_file(ctx: FileContext, skip: Iterable[str] = ()) -> list[ProblemRecord]:
    """The file checks, as the crawler runs them on a file it has open."""
    return run_file_checks(ctx, skip)


def check_file(item: tuple[str, tuple[str, ...]]) -> FileOutcome:
    """Check one file (runs in a worker process): ``item = (path, skipped checks)``."""
    from ..fileaccess.file_access import read_record

    path, skip = item
    try:
        # Plain bytes first, as EXtra-data does: an OS-level failure (or a
        # hang, for a file on tape) shows here rather than inside libhdf5.
        with open(path, "rb") as fh:
            fh.read(8)
    except OSError as exc:
        return _unreadable(path, ACCESS_MSG, str(exc))
    try:
        record = read_record(
            path, checks=lambda view, rec: check_open_file(FileContext(rec, view), skip))
    except (DataFileNotFoundError, DataFilePermissionError) as exc:
        return _unreadable(path, ACCESS_MSG, exc.problem)
    except DataFileError as exc:
        return _unreadable(path, OPEN_MSG, exc.problem)
    except ExtraCatalogError as exc:
        return _unreadable(path, OPEN_MSG, str(exc).removeprefix(path + ": "))
    except Exception as exc:  # noqa: BLE001 - a damaged file can make h5py fail in odd ways
        return _unreadable(path, OPEN_MSG, f"{type(exc).__name__}: {exc}")
    return FileOutcome(path, record, record.problems)


def check_files(paths: Sequence[str], skip: Iterable[str] = (), *,
                processes: int | None = None, timeout: float | None = DEFAULT_TIMEOUT,
                progress: Progress | None = None) -> list[FileOutcome]:
    """Check *paths* in parallel; return their outcomes in the order of *paths*.

    Parameters
    ----------
    paths : sequence of str
    skip : iterable of str
        Names of file checks not to run.
    processes : int, optional
        Worker processes (default: the number of CPUs, at most one per file).
    timeout : float or None
        Seconds one file may take; a file that takes longer is reported as
        ``Could not access file`` and its worker is killed.
    progress : callable, optional
        ``progress(done, total, n_problems)`` after each file.
    """
    from ..index.pool import DeadlinePool

    if not paths:
        return []
    skip = tuple(skip)
    processes = max(1, min(processes or os.cpu_count() or 1, len(paths)))
    found: dict[str, FileOutcome] = {}
    n_problems = 0
    with DeadlinePool(check_file, processes=processes, timeout=timeout) as pool:
        for result in pool.map_unordered([(p, skip) for p in paths]):
            path = result.item[0]
            if isinstance(result.value, FileOutcome):
                outcome = result.value
            elif result.timed_out:
                outcome = _unreadable(path, ACCESS_MSG, f"no answer within {timeout:g} s (a "
                                      "file on tape, or a hanging file system?)")
            else:
                # The worker died in libhdf5, or the check itself failed.
                outcome = _unreadable(path, OPEN_MSG, str(result.error))
            found[path] = outcome
            n_problems += len(outcome.problems)
            if progress is not None:
                progress(len(found), len(paths), n_problems)
    return [found[p] for p in paths]


class TerminalProgress:
    """A one-line progress bar on stderr, shown only when stderr is a terminal."""

    def __init__(self, enabled: bool | None = None, width: int = 40) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.width = width

    def __call__(self, done: int, total: int, n_problems: int) -> None:
        if not self.enabled:
            return
        filled = self.width * done // max(total, 1)
        bar = "#" * filled + " " * (self.width - filled)
        end = "\n" if done >= total else ""
        sys.stderr.write(f"\rProgress: {done}/{total} [{bar}] {n_problems} problems{end}")
        sys.stderr.flush()
