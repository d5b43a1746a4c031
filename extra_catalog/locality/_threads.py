"""Calls that may block forever, made in daemon threads with a deadline.

Reading a dCache pseudo-file is one small read, but a hanging NFS mount or
a FIFO makes it block in the kernel, where nothing can interrupt it. Each
call runs in its own daemon thread; a call that misses its deadline is
reported as timed out and its thread abandoned. Daemon threads never delay
the interpreter's exit (``concurrent.futures`` workers would: they are
joined at exit).
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

__all__ = ["Outcome", "map_with_deadline"]


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What one call gave: a value, an exception, or nothing in time."""

    item: T
    value: Any = None
    error: BaseException | None = None
    timed_out: bool = False


def _run(func: Callable[[Any], Any], index: int, item: Any, out: queue.Queue) -> None:
    try:
        out.put((index, func(item), None))
    except BaseException as exc:  # noqa: BLE001 - handed to the caller
        out.put((index, None, exc))


def map_with_deadline(func: Callable[[T], Any], items: Iterable[T], timeout: float,
                      workers: int = 16) -> Iterator[Outcome[T]]:
    """Yield an :class:`Outcome` of ``func(item)`` per item, in order of completion.

    At most *workers* calls run at once; a call still running *timeout*
    seconds after it started is reported as timed out.
    """
    pending = deque(enumerate(items))
    running: dict[int, tuple[T, float]] = {}
    out: queue.Queue = queue.Queue()
    while pending or running:
        while pending and len(running) < max(1, workers):
            index, item = pending.popleft()
            running[index] = (item, time.monotonic())
            threading.Thread(target=_run, args=(func, index, item, out), daemon=True,
                             name="extra_catalog-locality").start()
        oldest = min(started for _, started in running.values())
        try:
            index, value, error = out.get(timeout=max(0.0, oldest + timeout - time.monotonic()))
        except queue.Empty:
            now = time.monotonic()
            for index, (item, started) in list(running.items()):
                if now - started >= timeout:
                    del running[index]
                    yield Outcome(item, timed_out=True)
            continue
        if index in running:  # else it had timed out already: too late
            item, _ = running.pop(index)
            yield Outcome(item, value=value, error=error)
