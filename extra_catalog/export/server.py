"""Sending Karabo bridge messages: the socket, and :class:`ZMQStreamer` for your own data.

Memory stays bounded whatever the client does: a REP socket only sends
when a client asks, PUSH and PUB sockets hold at most their high-water mark
(``hwm``) of messages, and :class:`ZMQStreamer` keeps at most ``maxlen``
trains waiting. Every wait is a short poll that checks a stop flag, so a
server stops promptly on :meth:`ZMQStreamer.stop`, Ctrl-C or SIGTERM even
when its client went away.
"""

from __future__ import annotations

import queue
import socket
import struct
import threading
from collections.abc import Mapping
from typing import Any

import zmq

from .protocol import Part, serialize

__all__ = ["SOCKET_TYPES", "BridgeSocket", "ZMQStreamer", "resolve_endpoint"]

#: Server socket types and what the client must use with each.
SOCKET_TYPES = {"REP": zmq.REP, "PUSH": zmq.PUSH, "PUB": zmq.PUB}

#: Seconds between checks of the stop flag while waiting for a client.
POLL_INTERVAL = 0.1


def resolve_endpoint(port: int | str, use_infiniband: bool = False) -> str:
    """The ZeroMQ endpoint to bind for a port number or an endpoint string.

    Integers and strings of digits are TCP ports on every interface (or on
    the first InfiniBand interface, ``ib0``, with *use_infiniband* when it
    has an IPv4 address); anything else is used as an endpoint unchanged.
    """
    if isinstance(port, int) or str(port).isdigit():
        host = (_interface_ipv4("ib0") if use_infiniband else None) or "*"
        return f"tcp://{host}:{int(port)}"
    return str(port)


def _interface_ipv4(name: str) -> str | None:
    """IPv4 address of a network interface (Linux), or None."""
    try:
        import fcntl
    except ImportError:  # not on Linux/Unix
        return None
    siocgifaddr = 0x8915
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            raw = fcntl.ioctl(probe.fileno(), siocgifaddr,
                              struct.pack("256s", name.encode()[:15]))
        except OSError:
            return None
    return socket.inet_ntoa(raw[20:24])


class BridgeSocket:
    """A bound server socket sending Karabo bridge messages.

    Parameters
    ----------
    endpoint : str
        ZeroMQ endpoint to bind, e.g. ``'tcp://*:4545'`` (port 0: any free port).
    sock : {'REP', 'PUSH', 'PUB'}
        REP answers each ``next`` request of a REQ client; PUSH sends to
        PULL clients in turn, waiting while none can take more; PUB sends
        to every SUB client and drops messages a slow one cannot take.
    hwm : int
        High-water mark: messages ZeroMQ may queue per client.
    """

    def __init__(self, endpoint: str, sock: str = "REP", *, hwm: int = 1) -> None:
        if sock not in SOCKET_TYPES:
            raise ValueError(f"Unsupported socket type {sock!r}; choose one of "
                             f"{', '.join(SOCKET_TYPES)}")
        self.sock_type = sock
        self.context = zmq.Context()
        self.socket = self.context.socket(SOCKET_TYPES[sock])
        # Never block closing on a client that went away; a complete stream
        # asks for its queue to be delivered explicitly (flush_and_close).
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.set_hwm(hwm)
        try:
            self.socket.bind(endpoint)
        except zmq.ZMQError as exc:
            self.context.destroy(linger=0)
            raise OSError(f"cannot listen on {endpoint}: {exc}") from None
        bound = self.socket.getsockopt_string(zmq.LAST_ENDPOINT)
        #: The endpoint clients connect to (the host name for all interfaces).
        self.endpoint = bound.replace("0.0.0.0", socket.gethostname())
        self.bad_requests = 0

    def send(self, parts: list[Part], stop: threading.Event | None = None) -> bool:
        """Send one message; False if *stop* was set before it could be sent."""
        if self.sock_type == "REP":
            if not self._await_request(stop):
                return False
            self.socket.send_multipart(parts, copy=False)
            return True
        if self.sock_type == "PUB":
            self.socket.send_multipart(parts, copy=False)  # drops above the HWM, never blocks
            return True
        while True:  # PUSH: wait for a client with room, checking for stop
            if stop is not None and stop.is_set():
                return False
            if self.socket.poll(int(POLL_INTERVAL * 1000), zmq.POLLOUT):
                try:
                    self.socket.send_multipart(parts, flags=zmq.NOBLOCK, copy=False)
                    return True
                except zmq.Again:
                    continue

    def _await_request(self, stop: threading.Event | None) -> bool:
        while True:
            if stop is not None and stop.is_set():
                return False
            if not self.socket.poll(int(POLL_INTERVAL * 1000), zmq.POLLIN):
                continue
            request = self.socket.recv()
            if request == b"next":
                return True
            # Answer so the client is not stuck, and keep the train for a proper request.
            self.bad_requests += 1
            self.socket.send(b"Error: bad request %b" % request[:100])

    def close(self) -> None:
        """Close at once, dropping messages not yet delivered."""
        self.context.destroy(linger=0)

    def flush_and_close(self) -> None:
        """Close after ZeroMQ delivered the queued messages (the end of a stream).

        The wait happens in a helper thread so that Ctrl-C or SIGTERM still
        interrupt it (signals reach only the main thread's Python code).
        """
        self.socket.setsockopt(zmq.LINGER, -1)
        closer = threading.Thread(target=self.context.destroy, kwargs={"linger": -1},
                                  name="karabo-bridge-flush", daemon=True)
        closer.start()
        while closer.is_alive():
            closer.join(POLL_INTERVAL)


class ZMQStreamer:
    """Stream your own data over the Karabo bridge from a background thread.

    Parameters
    ----------
    port : int or str
        TCP port (``0``: any free port, see :attr:`endpoint`) or a ZeroMQ
        endpoint such as ``'tcp://127.0.0.1:4545'``.
    sock : {'REP', 'PUSH', 'PUB'}
        Socket type; clients use REQ, PULL or SUB respectively.
    maxlen : int
        At most this many trains wait to be sent; :meth:`feed` blocks (or
        raises :class:`queue.Full`) beyond that, so a slow or absent client
        never makes the queue grow.
    protocol_version : {'2.2', '1.0'}
    dummy_timestamps : bool
        Add timestamps taken when a train is fed to sources without one.
    hwm : int
        ZeroMQ high-water mark (messages queued per client).

    Examples
    --------
    >>> with ZMQStreamer(4545) as streamer:          # doctest: +SKIP
    ...     for tid, data in run.trains():
    ...         streamer.feed(process(data))

    Arrays are sent without copying: do not modify an array after feeding it.
    """

    def __init__(self, port: int | str, sock: str = "REP", maxlen: int = 10,
                 protocol_version: str = "2.2", dummy_timestamps: bool = False, *,
                 hwm: int = 1) -> None:
        if maxlen < 1:
            raise ValueError(f"maxlen must be at least 1, not {maxlen}")
        serialize({}, protocol_version=protocol_version)  # check the version now
        self.protocol_version = protocol_version
        self.dummy_timestamps = dummy_timestamps
        self._socket = BridgeSocket(resolve_endpoint(port), sock, hwm=hwm)
        #: Serialised trains waiting to be sent (at most *maxlen*).
        self.buffer: queue.Queue[list[Part]] = queue.Queue(maxsize=maxlen)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="karabo-bridge-sender",
                                       daemon=True)

    @property
    def endpoint(self) -> str:
        """The endpoint clients connect to, e.g. ``'tcp://myhost:4545'``."""
        return self._socket.endpoint

    def start(self) -> None:
        """Start sending in the background."""
        self.thread.start()

    def feed(self, data: Mapping[str, Mapping[str, Any]],
             metadata: Mapping[str, Mapping[str, Any]] | None = None,
             block: bool = True, timeout: float | None = None) -> None:
        """Queue one train, ``{source: {key: value}}``, for sending.

        The train is serialised here, so bad values raise in the caller.
        Metadata comes from *metadata* or each source's ``'metadata'`` key.

        Raises
        ------
        queue.Full
            *maxlen* trains are waiting and *block* is False or *timeout* passed.
        RuntimeError
            The streamer was stopped, or sending failed (the cause is chained).
        """
        self._check_running()
        parts = serialize(data, metadata, self.protocol_version, self.dummy_timestamps)
        if not block:
            self.buffer.put(parts, block=False)
            return
        # Wait in short steps so stop() or a failed sender releases a blocked feeder.
        remaining = timeout
        while True:
            step = POLL_INTERVAL if remaining is None else min(POLL_INTERVAL, remaining)
            try:
                self.buffer.put(parts, timeout=step)
                return
            except queue.Full:
                self._check_running()
                if remaining is not None:
                    remaining -= step
                    if remaining <= 0:
                        raise

    def _check_running(self) -> None:
        if self._error is not None:
            raise RuntimeError(f"the Karabo bridge sender failed: {self._error}") \
                from self._error
        if self._stop.is_set():
            raise RuntimeError("this ZMQStreamer was stopped; make a new one")

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    parts = self.buffer.get(timeout=POLL_INTERVAL)
                except queue.Empty:
                    continue
                if not self._socket.send(parts, self._stop):
                    break
        except BaseException as exc:  # reported to the feeder, never lost in the thread
            self._error = exc

    def stop(self) -> None:
        """Stop sending, drop trains not yet sent and close the socket."""
        self._stop.set()
        if self.thread.is_alive():
            self.thread.join()
        self._socket.close()

    def __enter__(self) -> ZMQStreamer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
