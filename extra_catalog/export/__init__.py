"""Streaming data over the Karabo bridge (ZeroMQ + msgpack, protocol 2.2).

The names of EXtra-data's ``extra_data.export`` are here: :func:`serve_files`
and :func:`serve_data` stream files or a DataCollection train by train, and
:class:`ZMQStreamer` sends your own processed data from a background thread.
:func:`serve_runs` streams several runs (e.g. a catalogue query's) in train
order. Any Karabo bridge client can receive, e.g. ``karabo_bridge.Client``.

Layers: :mod:`.protocol` (the wire format, pure), :mod:`.server` (sockets and
the streamer thread), :mod:`.trains` (which trains, surviving lost files),
:mod:`.serve` (the serve functions).
"""

from __future__ import annotations

from .protocol import serialize
from .serve import StreamStats, serve_data, serve_files, serve_runs
from .server import ZMQStreamer

__all__ = ["ZMQStreamer", "serve_files", "serve_data", "serve_runs", "serialize", "StreamStats"]
