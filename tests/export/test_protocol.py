"""The wire format, checked part by part and with the karabo_bridge client's own decoder."""

from __future__ import annotations

import msgpack
import numpy as np
import pytest
from karabo_bridge.serializer import deserialize

from extra_catalog.export.protocol import (dummy_timestamp, drop_object_arrays,
                                           message_nbytes, serialize)

TRAIN = {
    "B/CAM:out": {
        "data.image": np.arange(12, dtype=np.uint16).reshape(3, 4),
        "data.trainId": np.uint64(10007),
        "metadata": {"source": "B/CAM:out", "timestamp.tid": 10007},
    },
    "A/MOTOR/X": {
        "actualPosition.value": np.float64(1.5),
        "state.value": "ON",
        "metadata": {"source": "A/MOTOR/X", "timestamp.tid": 10007},
    },
}


def _unpack(part) -> object:
    return msgpack.unpackb(bytes(part), raw=False)


def test_v22_parts_are_header_payload_pairs_per_source_in_order():
    parts = serialize(TRAIN)
    assert len(parts) == 6
    headers = [_unpack(p) for p in parts[0::2]]
    assert [(h["source"], h["content"]) for h in headers] == [
        ("A/MOTOR/X", "msgpack"), ("B/CAM:out", "msgpack"), ("B/CAM:out", "array")]
    assert headers[0]["metadata"] == {"source": "A/MOTOR/X", "timestamp.tid": 10007}
    # The source's own metadata stays in its map too, as EXtra-data's server sends it.
    assert _unpack(parts[1]) == {"actualPosition.value": 1.5, "state.value": "ON",
                                 "metadata": {"source": "A/MOTOR/X", "timestamp.tid": 10007}}
    # numpy scalars travel as plain msgpack numbers, arrays as raw bytes
    assert _unpack(parts[3]) == {"data.trainId": 10007,
                                 "metadata": {"source": "B/CAM:out", "timestamp.tid": 10007}}
    assert headers[2] == {"source": "B/CAM:out", "content": "array", "path": "data.image",
                          "dtype": "uint16", "shape": [3, 4]}
    assert bytes(parts[5]) == TRAIN["B/CAM:out"]["data.image"].tobytes()
    assert message_nbytes(parts) == sum(len(bytes(p)) for p in parts)


def test_arrays_are_sent_without_copying():
    parts = serialize(TRAIN)
    array = TRAIN["B/CAM:out"]["data.image"]
    assert np.shares_memory(np.frombuffer(parts[5], dtype=np.uint8), array)


@pytest.mark.parametrize("version", ["2.2", "1.0"])
def test_karabo_bridge_decoder_reads_what_we_write(version):
    odd = np.arange(24, dtype=">i4").reshape(4, 6)[:, ::2]  # big-endian, not contiguous
    train = {"S": {"odd": odd, "zero_d": np.array(3.5), "empty": np.zeros((0, 5), np.float32),
                   "flag": np.bool_(True), "few": [np.int16(1), 2],
                   "metadata": {"source": "S", "timestamp.tid": 5}}}
    data, meta = deserialize(serialize(train, protocol_version=version))
    got = data["S"]
    np.testing.assert_array_equal(got["odd"], odd)
    assert got["odd"].dtype == odd.dtype
    assert got["zero_d"].shape == () and got["zero_d"] == 3.5
    assert got["empty"].shape == (0, 5) and got["empty"].dtype == np.float32
    assert got["flag"] is True and got["few"] == [1, 2]
    assert meta["S"] == got["metadata"] == {"source": "S", "timestamp.tid": 5}


def test_metadata_argument_overrides_the_data():
    parts = serialize({"S": {"x": 1}}, {"S": {"source": "S", "timestamp.tid": 9}})
    assert _unpack(parts[0])["metadata"] == {"source": "S", "timestamp.tid": 9}
    assert _unpack(parts[1]) == {"x": 1}


def test_dummy_timestamps_fill_only_missing_ones():
    stamped = {"source": "B", "timestamp": 1.25, "timestamp.sec": "1",
               "timestamp.frac": "250000000000000000", "timestamp.tid": 3}
    data = {"A": {"metadata": {"source": "A", "timestamp.tid": 3}}, "B": {"metadata": stamped}}
    now = 1_700_000_000_123_456_789
    _, meta = deserialize(serialize(data, dummy_timestamps=True, time_ns=now))
    assert meta["A"] == {"source": "A", "timestamp.tid": 3, **dummy_timestamp(now)}
    assert meta["B"] == stamped
    assert dummy_timestamp(now) == {"timestamp": pytest.approx(1_700_000_000.123456789),
                                    "timestamp.sec": "1700000000",
                                    "timestamp.frac": "123456789000000000"}
    _, plain = deserialize(serialize(data))
    assert "timestamp" not in plain["A"]


def test_object_arrays_are_refused_with_the_source_and_key():
    with pytest.raises(ValueError, match=r"S names: an array of Python objects"):
        serialize({"S": {"names": np.array(["a", "bc"], dtype=object)}})


def test_drop_object_arrays_takes_the_value_timestamp_along():
    data = {"S": {"names.value": np.array(["a"], dtype=object), "names.timestamp": np.uint64(1),
                  "x.value": np.arange(3), "x.timestamp": np.uint64(2)}}
    assert sorted(drop_object_arrays(data)) == [("S", "names.timestamp"), ("S", "names.value")]
    assert set(data["S"]) == {"x.value", "x.timestamp"}


def test_unknown_protocol_version():
    with pytest.raises(ValueError, match="protocol version '3.0'"):
        serialize(TRAIN, protocol_version="3.0")
