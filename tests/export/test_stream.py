"""End to end: our server, the real karabo_bridge client (127.0.0.1), data as the reader gives."""

from __future__ import annotations

import numpy as np
import pytest

from extra_catalog.export import ZMQStreamer, serve_data, serve_files
from extra_catalog.export.protocol import drop_object_arrays
from extra_catalog.export.serve import select_for_streaming

from .conftest import (FIRST, MOD0, MOD1, N_TRAINS, SKIPPED, XGM, ServerThread,
                       assert_same_train, client_for, receive)

LOCAL = "tcp://127.0.0.1:0"
CLIENT_SOCKET = {"REP": "REQ", "PUSH": "PULL", "PUB": "SUB"}


def _expected(data) -> dict[int, dict]:
    out = {}
    for tid, train in data.trains():
        drop_object_arrays(train)
        out[tid] = train
    return out


@pytest.mark.parametrize("sock", ["REP", "PUSH"])
def test_every_train_arrives_as_the_collection_reads_it(open_stream_run, sock):
    data = open_stream_run.select("*XGM*").select_trains(np.s_[:6])
    server = ServerThread(serve_data, data, LOCAL, sock=sock)
    client = client_for(server.out.local(), CLIENT_SOCKET[sock])
    received = receive(client, 6)
    stats = server.finish()
    expected = _expected(data)
    assert [m[XGM]["timestamp.tid"] for _, m in received] == list(expected)
    for (got, meta), (tid, want) in zip(received, expected.items()):
        assert set(got) == set(want)
        for source in want:
            assert meta[source] == {"source": source, "timestamp.tid": tid}
            assert_same_train(got[source], want[source])
    assert stats.trains == 6 and stats.nbytes > 6 * 4000
    assert "Sent 6/6 trains - Train ID 10005" in server.out.getvalue()


def test_pub_sub_through_zmqstreamer(open_stream_run):
    data = open_stream_run.select(MOD0, "image.*").select_trains(np.s_[:4])
    with ZMQStreamer(LOCAL, sock="PUB", hwm=100) as streamer:
        client = client_for("tcp://127.0.0.1:" + streamer.endpoint.rsplit(":", 1)[1], "SUB")
        client._socket.setsockopt(__import__("zmq").RCVTIMEO, 100)
        # A subscription takes a moment to reach a PUB socket: probe until one arrives.
        for _ in range(100):
            streamer.feed({"probe": {"n": 1}})
            try:
                if "probe" in client.next()[0]:
                    break
            except TimeoutError:
                continue
        else:
            pytest.fail("the subscriber never received a probe")
        client._socket.setsockopt(__import__("zmq").RCVTIMEO, 10_000)
        expected = _expected(data)
        for train in expected.values():
            streamer.feed(train)
        got = []
        while len(got) < len(expected):
            data_, meta = client.next()
            if MOD0 in data_:
                got.append((data_, meta))
    for (received, meta), (tid, want) in zip(got, expected.items()):
        assert meta[MOD0]["timestamp.tid"] == tid
        assert_same_train(received[MOD0], want[MOD0])


def test_include_patterns_select_sources_and_keys(open_stream_run):
    data = select_for_streaming(open_stream_run, [(XGM, "*photonFlux*"), "*/MOTOR/X"])
    server = ServerThread(serve_data, data, LOCAL)
    received = receive(client_for(server.out.local()), N_TRAINS)
    server.finish()
    got, _ = received[0]
    assert set(got) == {XGM, "SPB_IRU_MOTORS/MOTOR/X"}
    assert set(got[XGM]) == {"pulseEnergy.photonFlux.value", "pulseEnergy.photonFlux.timestamp",
                             "metadata"}


@pytest.mark.parametrize("allow_partial", [False, True])
def test_partial_trains(open_stream_run, allow_partial):
    data = select_for_streaming(open_stream_run, [(MOD0, "image.data"), (MOD1, "image.data")],
                                allow_partial)
    n = len(data.train_ids)
    assert n == (N_TRAINS if allow_partial else N_TRAINS - len(SKIPPED))
    server = ServerThread(serve_data, data, LOCAL, require_all=not allow_partial)
    received = receive(client_for(server.out.local()), n)
    server.finish()
    tids = [meta[MOD0]["timestamp.tid"] for _, meta in received]
    assert (set(SKIPPED) <= set(tids)) == allow_partial
    for got, meta in received:
        has_mod1 = "image.data" in got[MOD1]
        assert has_mod1 == (meta[MOD1]["timestamp.tid"] not in SKIPPED)


def test_dummy_timestamps(open_stream_run):
    data = open_stream_run.select(XGM).select_trains(np.s_[:2])
    server = ServerThread(serve_data, data, LOCAL, dummy_timestamps=True)
    received = receive(client_for(server.out.local()), 2)
    server.finish()
    for _, meta in received:
        stamp = meta[XGM]
        assert set(stamp) == {"source", "timestamp.tid", "timestamp", "timestamp.sec",
                              "timestamp.frac"}
        assert int(stamp["timestamp.sec"]) == int(stamp["timestamp"])
        assert len(stamp["timestamp.frac"]) == 18


def test_append_detector_modules(open_stream_run):
    data = open_stream_run.select("*AGIPD1M*", "image.*").select_trains(np.s_[2:5])
    server = ServerThread(serve_data, data, LOCAL, append_detector_modules=True)
    received = receive(client_for(server.out.local()), 3)
    server.finish()
    combined = "SPB_DET_AGIPD1M-1/DET/APPEND"
    for (got, meta), (tid, want) in zip(received, _expected(data).items()):
        assert set(got) == {combined}
        assert meta[combined] == {"source": combined, "timestamp.tid": tid}
        stacked = got[combined]["image.data"]
        frames = want[MOD0]["image.data"]  # (frames, 2, 8, 8) raw AGIPD
        assert stacked.shape == frames.shape[:2] + (16,) + frames.shape[2:]
        np.testing.assert_array_equal(stacked[:, :, 0], frames)
        if tid in SKIPPED:
            assert not stacked[:, :, 1].any()  # module 1 missing in this train: zeros
        else:
            np.testing.assert_array_equal(stacked[:, :, 1], want[MOD1]["image.data"])
        assert not stacked[:, :, 2:].any()
        np.testing.assert_array_equal(got[combined]["image.cellId"], want[MOD0]["image.cellId"])


def test_serve_files_on_one_file(stream_run):
    path = sorted(stream_run.glob("*DA01-S00001.h5"))[0]
    server = ServerThread(serve_files, path, LOCAL, source_glob="*XGM*", key_glob="data.*",
                          sock="PUSH")
    received = receive(client_for(server.out.local(), "PULL"), 4)
    assert server.finish().trains == 4
    assert [m[XGM + ":output"]["timestamp.tid"] for _, m in received] == \
        list(range(FIRST + 4, FIRST + 8))
    assert set(received[0][0]) == {XGM + ":output", "SPB_XTD9_XGM/DOOCS/MAIN:output"}


def test_zmqstreamer_protocol_1_0_to_the_real_client(open_stream_run):
    data = open_stream_run.select(XGM + ":output").select_trains(np.s_[:3])
    expected = _expected(data)
    with ZMQStreamer(LOCAL, sock="PUSH", protocol_version="1.0") as streamer:
        client = client_for("tcp://127.0.0.1:" + streamer.endpoint.rsplit(":", 1)[1], "PULL")
        for train in expected.values():
            streamer.feed(train)
        received = receive(client, 3)
    for (got, meta), (tid, want) in zip(received, expected.items()):
        source = XGM + ":output"
        assert meta[source] == {"source": source, "timestamp.tid": tid}
        assert_same_train(got[source], want[source])
