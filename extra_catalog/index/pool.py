"""A process pool whose tasks have a deadline.

Reading a file that lives only on tape can block for hours, and no Python
call can interrupt a read stuck in the kernel. So each file is read in a
worker process, and a worker that misses its deadline is killed and
replaced; its task is reported as timed out and the others carry on.

``concurrent.futures`` cannot do this: it has no way to kill one task, and
a worker that dies breaks the whole executor.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection as mpc
import os
import signal
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

__all__ = ["TaskResult", "DeadlinePool"]


@dataclass(frozen=True)
class TaskResult(Generic[T]):
    """What happened to one task.

    Exactly one of ``value``, ``error`` and ``timed_out`` describes the
    outcome: the function's return value, the exception it raised (``error``
    is the exception when it could be pickled, else a RuntimeError carrying
    its text), or ``timed_out=True`` when it did not finish in time.
    """

    item: T
    value: Any = None
    error: BaseException | None = None
    timed_out: bool = False
    seconds: float = 0.0


#: Seconds between a waiting worker's checks that its parent is still alive.
_PARENT_CHECK = 1.0


def _worker_main(conn: mpc.Connection, func: Callable[[Any], Any]) -> None:
    """Run tasks received on *conn* until told to stop (``None``) or the parent dies."""
    parent = os.getppid()
    while True:
        try:
            # A forked worker holds copies of the parent's ends of the pipes,
            # so it never sees end-of-file when the parent is killed: without
            # this check it would wait for ever.
            while not conn.poll(_PARENT_CHECK):
                if os.getppid() != parent:
                    return
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        try:
            reply: tuple[str, Any] = ("ok", func(msg))
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
            reply = ("error", exc)
        try:
            conn.send(reply)
        except Exception:  # the exception or value could not be pickled
            text = "".join(traceback.format_exception_only(type(reply[1]), reply[1]))
            conn.send(("error", RuntimeError(text.strip())))


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class _Worker:
    """One worker process and the task it is busy with."""

    def __init__(self, ctx: mp.context.BaseContext, func: Callable[[Any], Any]):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, func), daemon=True)
        self.proc.start()
        child.close()
        self.item: Any = None
        self.started = 0.0

    @property
    def busy(self) -> bool:
        return self.started > 0

    def submit(self, item: Any) -> None:
        self.item, self.started = item, time.monotonic()
        self.conn.send(item)

    def kill(self) -> None:
        # A process stuck in an uninterruptible read may not die at once;
        # it is left to the kernel rather than waited for.
        self.proc.kill()
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
        self.conn.close()


class DeadlinePool:
    """Run a function over items in worker processes, each with a deadline.

    Parameters
    ----------
    func : callable
        A picklable (module-level) function of one argument.
    processes : int
        Number of worker processes (at least 1).
    timeout : float or None
        Seconds one task may take; None for no limit.
    context : str or None
        The multiprocessing start method. The default is ``'fork'`` where
        the platform has it: workers start at once and, unlike ``'spawn'``,
        do not re-import the caller's ``__main__`` (a script calling the
        crawler needs no ``if __name__ == '__main__'`` guard). The parent
        must not hold HDF5 files open when it forks; the crawler never does.

    Examples
    --------
    >>> with DeadlinePool(len, processes=2, timeout=10) as pool:   # doctest: +SKIP
    ...     results = list(pool.map_unordered(["ab", "c"]))
    """

    def __init__(self, func: Callable[[Any], Any], processes: int = 1,
                 timeout: float | None = None, context: str | None = None):
        if processes < 1:
            raise ValueError(f"processes must be at least 1, not {processes}")
        self.func = func
        self.processes = processes
        self.timeout = timeout
        if context is None:
            context = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        self._ctx = mp.get_context(context)
        self._workers: list[_Worker] = []

    def __enter__(self) -> DeadlinePool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop all worker processes."""
        for w in self._workers:
            w.stop()
        self._workers = []

    def map_unordered(self, items: Iterable[T]) -> Iterator[TaskResult[T]]:
        """Yield a :class:`TaskResult` for every item, in order of completion."""
        pending = deque(items)
        if not pending:
            return
        while len(self._workers) < min(self.processes, len(pending)):
            self._workers.append(_Worker(self._ctx, self.func))
        for w in self._workers:
            if pending:
                w.submit(pending.popleft())
        while any(w.busy for w in self._workers):
            yield from self._collect(pending)

    def _collect(self, pending: deque) -> Iterator[TaskResult]:
        busy = [w for w in self._workers if w.busy]
        ready = mpc.wait([w.conn for w in busy], timeout=self._wait_time(busy))
        now = time.monotonic()
        for i, w in enumerate(self._workers):
            if not w.busy:
                continue
            if w.conn in ready:
                result, alive = self._receive(w, now)
            elif self.timeout is not None and now - w.started > self.timeout:
                result = TaskResult(w.item, timed_out=True, seconds=now - w.started)
                alive = False
            else:
                continue
            if alive:
                w.started = 0.0
            else:
                w.kill()
                w = self._workers[i] = _Worker(self._ctx, self.func)
            if pending:
                w.submit(pending.popleft())
            yield result

    @staticmethod
    def _receive(w: _Worker, now: float) -> tuple[TaskResult, bool]:
        """Read a finished task's reply; the flag says whether the worker lives on."""
        seconds = now - w.started
        try:
            kind, payload = w.conn.recv()
        except (EOFError, OSError):
            # The worker died (crashed in C code, or was killed from outside).
            w.proc.join(timeout=1)
            err = RuntimeError(f"worker process died ({_exit_reason(w.proc.exitcode)}) "
                               "while working on it")
            return TaskResult(w.item, error=err, seconds=seconds), False
        if kind == "ok":
            return TaskResult(w.item, value=payload, seconds=seconds), True
        return TaskResult(w.item, error=payload, seconds=seconds), True

    def _wait_time(self, busy: list[_Worker]) -> float | None:
        if self.timeout is None:
            return None
        oldest = min(w.started for w in busy)
        return max(0.0, oldest + self.timeout - time.monotonic()) + 0.01
