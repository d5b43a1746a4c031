"""Serve files, a DataCollection, or the runs of a catalogue query over the Karabo bridge.

The sending loop runs in the calling thread: it reads a train, serialises
it and waits (in short, interruptible polls) until the socket can take it,
so at most one train is read ahead of what the client has taken. When every
train is sent, the socket is closed only after ZeroMQ delivered them.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from .protocol import message_nbytes, serialize
from .server import BridgeSocket, resolve_endpoint
from .trains import Train, merge_runs, report_to_stderr, stream_trains

__all__ = ["StreamStats", "serve_files", "serve_data", "serve_runs", "send_trains",
           "select_for_streaming"]


@dataclass
class StreamStats:
    """What a serve call sent."""

    endpoint: str
    trains: int = 0
    nbytes: int = 0
    seconds: float = 0.0


class _Progress:
    """The one-line progress report: ``Sent 5/60 trains - Train ID 10004 - 9.8 Hz``."""

    def __init__(self, n_trains: int, out: TextIO | None) -> None:
        self.n_trains = n_trains
        self.out = out
        self.count = 0
        self.tid = 0
        self.rate = 0.0
        self.times: deque[float] = deque([time.monotonic()], 10)

    def sent(self, tid: int) -> None:
        self.count += 1
        self.tid = tid
        now = time.monotonic()
        if self.count % 5 == 0:
            self.rate = len(self.times) / max(now - self.times[0], 1e-9)
            self.show("\r")
        self.times.append(now)

    def show(self, end: str) -> None:
        if self.out is not None:
            print(f"Sent {self.count}/{self.n_trains} trains - Train ID {self.tid} - "
                  f"{self.rate:.1f} Hz", end=end, file=self.out, flush=True)


def send_trains(trains: Iterable[Train], port: int | str, *, n_trains: int,
                dummy_timestamps: bool = False, use_infiniband: bool = False,
                sock: str = "REP", hwm: int = 1, out: TextIO | None = sys.stdout,
                on_bound: Callable[[str], None] | None = None) -> StreamStats:
    """Send ``(train_id, data)`` items to Karabo bridge clients.

    Parameters
    ----------
    trains : iterable
        ``(train_id, {source: {key: value, 'metadata': {...}}})``.
    port : int or str
        TCP port (0: any free port) or ZeroMQ endpoint.
    n_trains : int
        Trains expected, for the progress line.
    dummy_timestamps, use_infiniband, sock
        As for :func:`serve_data`.
    hwm : int
        ZeroMQ high-water mark (messages queued per client).
    out : file or None
        Where the endpoint and progress lines go (None: nowhere).
    on_bound : callable, optional
        Called with the endpoint once the socket listens.
    """
    bridge = BridgeSocket(resolve_endpoint(port, use_infiniband), sock, hwm=hwm)
    stats = StreamStats(bridge.endpoint)
    if out is not None:
        print(f"Streamer started on: {bridge.endpoint}", file=out, flush=True)
    if on_bound is not None:
        on_bound(bridge.endpoint)
    progress = _Progress(n_trains, out)
    start = time.perf_counter()
    try:
        for tid, data in trains:
            parts = serialize(data, dummy_timestamps=dummy_timestamps)
            bridge.send(parts)
            stats.nbytes += message_nbytes(parts)
            progress.sent(tid)
        progress.show("\n")
    except BaseException:
        bridge.close()
        raise
    bridge.flush_and_close()
    stats.trains = progress.count
    stats.seconds = time.perf_counter() - start
    return stats


def serve_data(data: Any, port: int | str, append_detector_modules: bool = False,
               dummy_timestamps: bool = False, use_infiniband: bool = False,
               sock: str = "REP", *, require_all: bool = False, hwm: int = 1,
               out: TextIO | None = sys.stdout,
               report: Callable[[str], None] = report_to_stderr) -> StreamStats:
    """Stream a DataCollection train by train over the Karabo bridge.

    Parameters
    ----------
    data : DataCollection
        What to send: select sources, keys and trains first.
    port : int or str
        A TCP port (integers and strings of digits; 0 picks a free one) or
        a ZeroMQ endpoint such as ``'tcp://*:44444'``.
    append_detector_modules : bool
        Combine AGIPD, DSSC or LPD module sources into one source
        ``<detector>/DET/APPEND`` with the modules stacked.
    dummy_timestamps : bool
        Add timestamps (the time of sending) to the metadata.
    use_infiniband : bool
        Listen on the InfiniBand interface (``ib0``) when *port* is a number.
    sock : {'REP', 'PUSH', 'PUB'}
        Socket type; clients use REQ, PULL or SUB respectively.
    require_all : bool
        When a file fails mid-stream, skip the trains it held instead of
        sending them without its sources.
    hwm : int
        ZeroMQ high-water mark (messages queued per client).
    out : file or None
        Where the endpoint and progress lines go.
    report : callable
        Called with a message for each file that fails mid-stream.

    Returns
    -------
    StreamStats
    """
    trains = stream_trains(data, require_all=require_all,
                           append_detector_modules=append_detector_modules, report=report)
    return send_trains(trains, port, n_trains=len(data.train_ids),
                       dummy_timestamps=dummy_timestamps, use_infiniband=use_infiniband,
                       sock=sock, hwm=hwm, out=out)


def serve_files(path: str | os.PathLike[str], port: int | str, source_glob: str = "*",
                key_glob: str = "*", **kwargs: Any) -> StreamStats:
    """Stream a file or a run directory over the Karabo bridge.

    Parameters
    ----------
    path : str or path
        An EuXFEL HDF5 file or a run directory.
    port : int or str
        TCP port or ZeroMQ endpoint (see :func:`serve_data`).
    source_glob, key_glob : str
        Send only matching sources, and matching keys of those.
    **kwargs
        Options of :func:`serve_data`.
    """
    from ..reader.opening import H5File, RunDirectory

    data = RunDirectory(path) if os.path.isdir(path) else H5File(path)
    return serve_data(data.select(source_glob, key_glob), port, **kwargs)


def select_for_streaming(data: Any, include: Sequence[str | tuple[str, str]],
                         allow_partial: bool = False) -> Any:
    """Select *include* patterns, keeping trains with all (or, partial, any) of them.

    Train completeness comes from the INDEX arrays, which a catalogued run
    has without opening any file.
    """
    if allow_partial:
        return data.select(list(include), require_any=True)
    return data.select(list(include), require_all=True)


def serve_runs(runs: Iterable[Any], port: int | str, include: Sequence[str | tuple[str, str]],
               *, allow_partial: bool = False, append_detector_modules: bool = False,
               dummy_timestamps: bool = False, use_infiniband: bool = False,
               sock: str = "REP", hwm: int = 1, out: TextIO | None = sys.stdout,
               report: Callable[[str], None] = report_to_stderr) -> StreamStats:
    """Stream the trains of several runs as one stream, in train ID order.

    Parameters
    ----------
    runs : iterable of DataCollection
        E.g. ``Catalog.open_runs(catalog.runs(...))``.
    include : sequence
        Source globs or ``(source glob, key glob)`` pairs, as for
        :meth:`DataCollection.select`. A run without a match is reported
        and skipped.
    allow_partial : bool
        Also send trains missing some of the included sources.
    append_detector_modules, dummy_timestamps, use_infiniband, sock, hwm, out, report
        As for :func:`serve_data`.
    """
    selected = []
    for run in runs:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "N trains dropped when filtering by..."
                sel = select_for_streaming(run, include, allow_partial)
        except (ValueError, KeyError) as exc:
            report(f"Skipping {_describe(run)}: {exc}")
            continue
        if len(sel.train_ids):
            selected.append(sel)

    def factory(sel: Any) -> Callable[[], Iterator[Train]]:
        return lambda: stream_trains(sel, require_all=not allow_partial,
                                     append_detector_modules=append_detector_modules,
                                     report=report)

    plan = [(int(sel.train_ids[0]), int(sel.train_ids[-1]), factory(sel)) for sel in selected]
    return send_trains(merge_runs(plan), port,
                       n_trains=sum(len(sel.train_ids) for sel in selected),
                       dummy_timestamps=dummy_timestamps, use_infiniband=use_infiniband,
                       sock=sock, hwm=hwm, out=out)


def _describe(run: Any) -> str:
    from ..exceptions import ExtraCatalogError

    try:
        meta = run.run_metadata()
        return f"proposal {meta['proposalNumber']} run {meta['runNumber']}"
    except (ExtraCatalogError, KeyError, ValueError):  # only for the message
        return repr(run)
