"""Can these files be read now? Each file checked in a child process with a deadline.

The check goes step by step, as EXtra-data's ``extra-data-readable`` does:
ask dCache for the file's locality, ``stat`` it, then open it and read its
metadata. Files dCache reports only on tape or unavailable are never
opened, so checking never stages a file from tape. The child reports each
step to the parent before it starts it, so a check that misses its
deadline says where it hung (``'file on GPFS but read attempt hangs'``).

A child that hangs is killed and left to the kernel; the other checks go
on. The parent never touches the files itself, so nothing here can block
for longer than the deadline.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection as mpc
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..fileaccess.locality import NOT_ON_DCACHE, read_locality

__all__ = ["ReadableResult", "check_readable", "check_access", "default_processes",
           "DEFAULT_TIMEOUT", "MARKS"]

#: Seconds one file's check may take.
DEFAULT_TIMEOUT = 5.0

#: The mark printed per file: readable, timed out, error raised, not available.
MARKS = {"readable": ".", "timeout": "T", "error": "E", "unavailable": "X"}

_NO_OUTPUT = "Status unknown, no output from check command"


@dataclass(frozen=True)
class ReadableResult:
    """The outcome of checking one file.

    Attributes
    ----------
    path : str or path
        The file, as given.
    mark : str
        ``'.'`` readable, ``'T'`` the check timed out, ``'E'`` a check
        raised an error (locality or stat), ``'X'`` not readable now
        (only on tape, unavailable, or the file could not be opened).
    state : str
        The last step reached: ``'readable'``, ``'dCache reports tape
        only'``, ``'file on GPFS but read attempt hangs'``...
    seconds : float or None
        Time to check and open a readable file.
    """

    path: str | os.PathLike[str]
    mark: str
    state: str
    seconds: float | None = None

    @property
    def readable(self) -> bool:
        """Whether the file could be opened and its metadata read."""
        return self.mark == MARKS["readable"]


def _open_and_read(path: Path) -> None:
    """Open the file and read its metadata, from disk (never from a cached instance)."""
    from ..fileaccess.file_access import read_record

    read_record(path)


def check_access(path: Path, report: Callable[[str], None],
                 read: Callable[[Path], None] = _open_and_read) -> int:
    """Check one file step by step, calling ``report(step)`` before each.

    Returns 1 when the locality check or ``stat`` raised, else 0; the last
    step reported says what happened (``'readable_<seconds>'`` if readable).
    """
    report("any access hangs")
    start = time.monotonic()
    try:
        locality = read_locality(path)
    except Exception as exc:  # noqa: BLE001 - reported, like every step
        report(f"locality check raises {type(exc).__name__}")
        return 1
    if locality == "UNAVAILABLE":
        report("dCache reports unavailable")
        return 0
    if locality == "NEARLINE":
        report("dCache reports tape only")
        return 0
    if locality == NOT_ON_DCACHE:
        prefix = "file on GPFS but "
    elif locality in ("ONLINE", "ONLINE_AND_NEARLINE"):
        prefix = "dCache reports on disk but "
    else:
        prefix = f"dCache reports {locality or 'nothing'} but "
    report(f"{prefix}stat hangs")
    try:
        path.stat()
    except Exception as exc:  # noqa: BLE001
        report(f"{prefix}stat raises {type(exc).__name__}")
        return 1
    report(f"{prefix}read attempt hangs")
    try:
        read(path)
    except Exception as exc:  # noqa: BLE001
        report(f"{prefix}read attempt raises {type(exc).__name__}")
        return 0
    report(f"readable_{time.monotonic() - start}")
    return 0


def _child(conn: mpc.Connection, path: Path, read: Callable[[Path], None]) -> None:
    # Numerical libraries loaded later must not start a thread per core in
    # every short-lived child (hundreds of them on a big node).
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        code = check_access(path, conn.send, read)
    except BaseException as exc:  # noqa: BLE001
        conn.send(f"check raises {type(exc).__name__}")
        code = 1
    conn.send(("exit", code))
    conn.close()


def default_processes() -> int:
    """Checks run at once: they mostly wait, so at least 4 whatever the CPU count, at most 32."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(32, max(4, cpus // 4))


class _Check:
    """One child process checking one file."""

    def __init__(self, ctx: mp.context.BaseContext, path: str | os.PathLike[str],
                 read: Callable[[Path], None]):
        self.path = path
        self.conn, child = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_child, args=(child, Path(path), read), daemon=True)
        self.started = time.monotonic()
        self.proc.start()
        child.close()
        self.state: str | None = None
        self.code: int | None = None

    def receive(self) -> bool:
        """Take the child's messages; True when it has finished (or died)."""
        try:
            while self.conn.poll():
                message = self.conn.recv()
                if isinstance(message, tuple):
                    self.code = message[1]
                    return True
                self.state = message
        except (EOFError, OSError):
            if self.code is None:
                self.proc.join(timeout=1)
                self.code = 1
                self.state = (f"check process died (exit code {self.proc.exitcode}) while "
                              f"{self.state or 'starting'}")
            return True
        return False

    def result(self, timed_out: bool) -> ReadableResult:
        state = self.state or _NO_OUTPUT
        if timed_out:
            return ReadableResult(self.path, MARKS["timeout"], state)
        if state.startswith("readable_"):
            return ReadableResult(self.path, MARKS["readable"], "readable",
                                  float(state.partition("_")[2]))
        mark = MARKS["error"] if self.code else MARKS["unavailable"]
        return ReadableResult(self.path, mark, state)

    def end(self, kill: bool) -> None:
        if kill:
            # A child stuck in an uninterruptible read may not die at once:
            # it is left to the kernel rather than waited for.
            self.proc.kill()
            self.proc.join(timeout=0.1)
        else:
            self.proc.join(timeout=5)
        self.conn.close()


def check_readable(paths: Iterable[str | os.PathLike[str]], timeout: float = DEFAULT_TIMEOUT,
                   processes: int | None = None, *,
                   read: Callable[[Path], None] = _open_and_read) -> Iterator[ReadableResult]:
    """Check whether each file can be read now, in order of completion.

    Parameters
    ----------
    paths : iterable of str or path
    timeout : float
        Seconds one file's check may take; a check that takes longer is
        stopped and reported with mark ``'T'`` and the step it hung in.
    processes : int, optional
        Checks run at once (default: :func:`default_processes`).
    read : callable, optional
        How the last step reads a file (default: open it and read its
        metadata); must be picklable where processes are spawned.

    Yields
    ------
    ReadableResult
    """
    limit = processes or default_processes()
    if limit < 1:
        raise ValueError(f"processes must be at least 1, not {limit}")
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    if read is _open_and_read:
        from ..fileaccess import file_access  # noqa: F401 - import h5py once, before forking
    pending = deque(paths)
    running: list[_Check] = []
    try:
        while pending or running:
            while pending and len(running) < limit:
                running.append(_Check(ctx, pending.popleft(), read))
            oldest = min(c.started for c in running)
            mpc.wait([c.conn for c in running],
                     timeout=max(0.0, oldest + timeout - time.monotonic()) + 0.01)
            now = time.monotonic()
            for check in list(running):
                finished = check.receive()
                timed_out = not finished and now - check.started > timeout
                if finished or timed_out:
                    running.remove(check)
                    check.end(kill=timed_out)
                    yield check.result(timed_out)
    finally:
        # The caller stopped early (or was interrupted): no check outlives it.
        for check in running:
            check.end(kill=True)
