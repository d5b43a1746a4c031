"""The Karabo bridge wire format: one train as a ZeroMQ multipart message.

Pure functions, no sockets. Version 2.2 (the default) sends, for each
source in sorted order, a pair of parts ``(header, msgpack map of the
non-array values)`` whose header is ``{'source', 'content': 'msgpack',
'metadata'}``, then one pair ``(header, raw bytes)`` per numpy array whose
header is ``{'source', 'content': 'array', 'path', 'dtype', 'shape'}``.
A source's own ``'metadata'`` entry stays in its map too, as EXtra-data's
server (karabo_bridge) sends it, so clients reading it keep working.
Version 1.0 sends one part: a msgpack map ``{source: {key: value, ...,
'metadata': {...}}}`` with arrays in the msgpack-numpy layout. Arrays are
sent without copying them (the message parts are views of their buffers).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import msgpack
import numpy as np

__all__ = ["PROTOCOL_VERSIONS", "serialize", "dummy_timestamp", "drop_object_arrays",
           "message_nbytes"]

#: Protocol versions :func:`serialize` can write.
PROTOCOL_VERSIONS = ("1.0", "2.2")

Part = bytes | memoryview


def dummy_timestamp(time_ns: int | None = None) -> dict[str, Any]:
    """Timestamp metadata for a train from the clock (or *time_ns*).

    Returns ``{'timestamp': float seconds, 'timestamp.sec': str,
    'timestamp.frac': str}``; the fraction has 18 digits (attoseconds), as
    the protocol documents.
    """
    ns = time.time_ns() if time_ns is None else int(time_ns)
    sec, frac_ns = divmod(ns, 1_000_000_000)
    return {
        "timestamp": ns / 1e9,
        "timestamp.sec": str(sec),
        "timestamp.frac": f"{frac_ns * 1_000_000_000:018d}",
    }


def drop_object_arrays(data: Mapping[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """Remove arrays of Python objects (strings) from train data, in place.

    They have no raw-buffer form in the protocol (EXtra-data drops them
    too). The ``.timestamp`` of a dropped CONTROL ``.value`` goes with it.
    Returns the ``(source, key)`` pairs removed.
    """
    dropped = []
    for source, values in data.items():
        doomed = [k for k, v in values.items()
                  if isinstance(v, np.ndarray) and v.dtype.hasobject]
        for key in doomed:
            if key.endswith(".value") and key[:-6] + ".timestamp" in values:
                doomed.append(key[:-6] + ".timestamp")
        for key in doomed:
            del values[key]
            dropped.append((source, key))
    return dropped


def serialize(data: Mapping[str, Mapping[str, Any]],
              metadata: Mapping[str, Mapping[str, Any]] | None = None,
              protocol_version: str = "2.2", dummy_timestamps: bool = False,
              *, time_ns: int | None = None) -> list[Part]:
    """Encode one train as the parts of a Karabo bridge message.

    Parameters
    ----------
    data : dict
        ``{source: {key: value}}``, values being Python scalars, strings,
        lists, numpy scalars or numeric numpy arrays. A ``'metadata'`` key
        of a source is its metadata when *metadata* is not given.
    metadata : dict, optional
        ``{source: {'source': ..., 'timestamp.tid': ..., ...}}``.
    protocol_version : {'2.2', '1.0'}
    dummy_timestamps : bool
        Add :func:`dummy_timestamp` to the metadata of sources without a
        ``'timestamp'``.
    time_ns : int, optional
        The clock reading for dummy timestamps (default: now).

    Returns
    -------
    list of bytes or memoryview
        The message parts, for ``socket.send_multipart(parts, copy=False)``.

    Raises
    ------
    ValueError
        Unknown protocol version, or an array of Python objects.
    """
    if protocol_version not in PROTOCOL_VERSIONS:
        raise ValueError(f"Unknown Karabo bridge protocol version {protocol_version!r}; "
                         f"choose one of {', '.join(PROTOCOL_VERSIONS)}")
    stamp = dummy_timestamp(time_ns) if dummy_timestamps else None
    sources = {}
    for source in sorted(data):
        values = data[source]
        meta = dict(values.get("metadata", {}) if metadata is None else metadata.get(source, {}))
        if stamp is not None and "timestamp" not in meta:
            meta.update(stamp)
        sources[source] = (values, meta)
    if protocol_version == "1.0":
        return [_pack_v1(sources)]
    return _pack_v22(sources)


def _pack_v22(sources: dict[str, tuple[Mapping[str, Any], dict[str, Any]]]) -> list[Part]:
    pack = msgpack.Packer(use_bin_type=True, default=_plain).pack
    parts: list[Part] = []
    for source, (values, meta) in sources.items():
        plain, arrays = {}, []
        for key, value in values.items():
            if isinstance(value, np.ndarray):
                arrays.append((key, _sendable(source, key, value)))
            else:
                plain[key] = value
        parts += [pack({"source": source, "content": "msgpack", "metadata": meta}),
                  pack(plain)]
        for key, array in arrays:
            parts += [pack({"source": source, "content": "array", "path": key,
                            "dtype": str(array.dtype), "shape": list(array.shape)}),
                      _buffer(array)]
    return parts


def _pack_v1(sources: dict[str, tuple[Mapping[str, Any], dict[str, Any]]]) -> bytes:
    def encode(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            # The msgpack-numpy layout, which 1.0 clients decode.
            return {b"nd": True, b"type": value.dtype.str, b"kind": b"",
                    b"shape": list(value.shape), b"data": _sendable("", "", value).tobytes()}
        return _plain(value)

    body = {source: {**values, "metadata": meta} for source, (values, meta) in sources.items()}
    return msgpack.packb(body, use_bin_type=True, default=encode)


def _sendable(source: str, key: str, array: np.ndarray) -> np.ndarray:
    if array.dtype.hasobject:
        raise ValueError(f"{source} {key}: an array of Python objects (e.g. strings) cannot "
                         "be sent over the Karabo bridge; send a list or drop the key")
    if array.dtype.fields is not None:
        raise ValueError(f"{source} {key}: arrays of a structured dtype cannot be sent over "
                         "the Karabo bridge; send each field as its own key")
    # (np.ascontiguousarray would turn a 0-d array into 1-d.)
    return array if array.flags.c_contiguous else array.copy(order="C")


def _buffer(array: np.ndarray) -> memoryview:
    """A flat byte view of a C-contiguous array (also for 0-d and empty arrays)."""
    return memoryview(array.reshape(-1).view(np.uint8))


def _plain(value: Any) -> Any:
    """msgpack's fallback: numpy scalars and small arrays inside lists as Python values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray) and not value.dtype.hasobject:
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot send a value of type {type(value).__name__} over the "
                    "Karabo bridge")


def message_nbytes(parts: list[Part]) -> int:
    """Bytes in a message (the sum of its parts)."""
    return sum(memoryview(p).nbytes for p in parts)
