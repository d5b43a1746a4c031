"""Slow, vanished and misbehaving clients, lost files, and stopping: bounded and never hung."""

from __future__ import annotations

import queue
import shutil
import threading
import time

import numpy as np
import pytest
import zmq

from extra_catalog import RunDirectory
from extra_catalog.export import ZMQStreamer, serve_data
from extra_catalog.export.serve import select_for_streaming, send_trains
from extra_catalog.fileaccess import get_handle_cache

from .conftest import FIRST, N_TRAINS, RECV_TIMEOUT, XGM, ServerThread, client_for, receive

LOCAL = "tcp://127.0.0.1:0"
#: Larger than loopback socket buffers (Linux: a few MiB), so an idle client
#: really stops the flow. Sent without copying, so cheap to send many times.
BIG = np.ones(16 * 2**20, dtype=np.uint8)
#: Trains in flight besides the queue: the sender's, a high-water mark each
#: side, socket buffers; anything unbounded would be far beyond.
IN_FLIGHT = 8


def _local(endpoint: str) -> str:
    return "tcp://127.0.0.1:" + endpoint.rsplit(":", 1)[1]


def _fill(streamer: ZMQStreamer, attempts: int = 50) -> int:
    """Try to feed *attempts* trains without blocking; return how many were taken."""
    taken = 0
    for _ in range(attempts):
        try:
            streamer.feed({"S": {"big": BIG, "n": taken}}, block=False)
            taken += 1
        except queue.Full:
            pass
    return taken


def test_queue_is_bounded_without_a_client():
    with ZMQStreamer(LOCAL, maxlen=3) as streamer:
        taken = _fill(streamer)
        full = 0
        for _ in range(3):  # blocking feeds give up too
            try:
                streamer.feed({"S": {"n": -1}}, timeout=0.05)
                taken += 1
            except queue.Full:
                full += 1
        # The queue, plus at most the one train the sender holds, waiting for a request.
        assert 3 <= taken <= 3 + 1 and full >= 2
        assert streamer.buffer.qsize() == 3


def test_queue_is_bounded_with_a_client_that_stops_reading():
    with ZMQStreamer(LOCAL, sock="PUSH", maxlen=2) as streamer:
        client = client_for(_local(streamer.endpoint), "PULL")
        taken = _fill(streamer)
        assert streamer.buffer.qsize() <= 2
        assert taken <= 2 + IN_FLIGHT
        # Everything taken is delivered, in order, once the client reads again.
        numbers = [client.next()[0]["S"]["n"] for _ in range(taken)]
        assert numbers == list(range(taken))


def test_stop_releases_a_blocked_sender_and_feeder():
    streamer = ZMQStreamer(LOCAL, maxlen=1)
    streamer.start()
    outcome: list[BaseException] = []

    def feeder() -> None:
        try:
            for n in range(5):  # no client: the third feed at the latest blocks
                streamer.feed({"S": {"n": n}})
        except RuntimeError as exc:
            outcome.append(exc)

    blocked = threading.Thread(target=feeder)
    blocked.start()
    while streamer.buffer.qsize() < 1:
        time.sleep(0.01)
    streamer.stop()
    blocked.join(RECV_TIMEOUT)
    assert not blocked.is_alive() and not streamer.thread.is_alive()
    assert len(outcome) == 1 and "stopped" in str(outcome[0])
    with pytest.raises(RuntimeError, match="stopped"):
        streamer.feed({"S": {"n": 1}})


def test_feed_raises_bad_values_in_the_caller():
    with ZMQStreamer(LOCAL) as streamer:
        with pytest.raises(ValueError, match="Python objects"):
            streamer.feed({"S": {"names": np.array(["a"], dtype=object)}})
        assert streamer.buffer.qsize() == 0


def test_server_reads_ahead_a_bounded_number_of_trains_for_a_stalled_client():
    pulled = []

    def trains():
        for tid in range(50):
            pulled.append(tid)
            yield tid, {"S": {"big": BIG, "metadata": {"source": "S", "timestamp.tid": tid}}}

    server = ServerThread(send_trains, trains(), LOCAL, n_trains=50, sock="PUSH")
    first = client_for(server.out.local(), "PULL")
    receive(first, 2)
    time.sleep(0.3)  # give an unbounded server the chance to run ahead
    assert len(pulled) <= 2 + IN_FLIGHT
    first._context.destroy(linger=0)  # the client vanishes
    # A new client gets the rest (what was queued for the vanished one may be lost).
    second = client_for(server.out.local(), "PULL")
    tids = []
    while not tids or tids[-1] != 49:
        tids.append(second.next()[1]["S"]["timestamp.tid"])
    assert tids == sorted(tids) and tids[0] > 1
    assert server.finish().trains == 50


def test_rep_survives_a_client_leaving_mid_request_and_a_bad_request(open_stream_run):
    data = open_stream_run.select(XGM)
    server = ServerThread(serve_data, data, LOCAL)
    endpoint = server.out.local()
    context = zmq.Context()
    try:
        leaver = context.socket(zmq.REQ)
        leaver.connect(endpoint)
        leaver.send(b"next")  # ...and goes away without reading the reply
        leaver.close(linger=0)
        rude = context.socket(zmq.REQ)
        rude.setsockopt(zmq.RCVTIMEO, RECV_TIMEOUT * 1000)
        rude.connect(endpoint)
        rude.send(b"gimme")
        assert rude.recv().startswith(b"Error: bad request")
        rude.close(linger=0)
    finally:
        context.destroy(linger=0)
    client = client_for(endpoint)
    tids = []
    while not tids or tids[-1] != FIRST + N_TRAINS - 1:
        tids.append(client.next()[1][XGM]["timestamp.tid"])
    # The bad request cost no train; at most the one sent to the leaver is gone.
    assert len(tids) >= N_TRAINS - 1
    server.finish()


@pytest.mark.parametrize("allow_partial", [True, False])
def test_file_deleted_mid_stream_is_reported_and_skipped(stream_run, tmp_path, allow_partial):
    run_dir = tmp_path / "r0001"
    shutil.copytree(stream_run, run_dir)
    motor = "SPB_IRU_MOTORS/MOTOR/X"
    lost = run_dir / "RAW-R0001-DA01-S00002.h5"  # the XGMs of the last 4 trains
    messages: list[str] = []
    with RunDirectory(run_dir, catalog=None) as run:
        data = select_for_streaming(run, [XGM, motor], allow_partial)
        get_handle_cache().close_all()  # nothing open: the deletion is seen on reading
        server = ServerThread(serve_data, data, LOCAL, require_all=not allow_partial,
                              report=messages.append)
        client = client_for(server.out.local())
        first = receive(client, 1)
        lost.unlink()
        n_left = N_TRAINS - 1 if allow_partial else N_TRAINS - 5
        received = first + receive(client, n_left)
        stats = server.finish()
    get_handle_cache().close_all()
    assert stats.trains == len(received)
    assert len(messages) == 1 and str(lost) in messages[0]
    tids = [meta[motor]["timestamp.tid"] for _, meta in received]
    assert tids == list(range(FIRST, FIRST + len(received)))
    for got, meta in received:
        tid = meta[motor]["timestamp.tid"]
        assert (XGM in got) == (tid < FIRST + 8)
        assert "actualPosition.value" in got[motor]


def test_bad_socket_type_and_port_in_use_are_clear_errors():
    with pytest.raises(ValueError, match="Unsupported socket type 'DEALER'"):
        ZMQStreamer(LOCAL, sock="DEALER")
    first = ZMQStreamer(LOCAL)
    try:
        taken = _local(first.endpoint)
        with pytest.raises(OSError, match=f"cannot listen on {taken}"):
            ZMQStreamer(taken)
    finally:
        first.stop()
