"""Compact, lossless encoding of 1-D integer arrays and of dtypes.

Per-train arrays (train IDs, validity flags, timestamps, INDEX first/count)
travel in :class:`~extra_catalog.records.FileRecord` as bytes made here. The
common shapes of these arrays get tiny forms: control INDEX is nearly always
count 1 (constant) and first 0..n-1 (arithmetic); train IDs are arithmetic or
nearly so (delta form). Anything else is zlib-compressed raw values.

Layout: one tag byte, one dtype byte, then the form's payload. Integers in
the header are unsigned LEB128 varints; array values are little-endian in
the array's own dtype, and arithmetic steps wrap modulo 2**bits, so every
value of every integer dtype, up to 2**64-1, round-trips exactly.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import numpy as np

__all__ = ["encode_array", "decode_array", "dtype_to_str", "dtype_from_str", "CodecError"]

_EMPTY, _CONST, _ARITH, _RLE, _DELTA, _RAW = range(6)

_DTYPES = ["|b1", "|u1", "<u2", "<u4", "<u8", "|i1", "<i2", "<i4", "<i8"]
_DTYPE_CODE = {np.dtype(s): i for i, s in enumerate(_DTYPES)}


class CodecError(ValueError):
    """Bytes that are not a valid encoded array, or an unsupported array."""


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise CodecError("truncated varint in encoded array")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _unsigned(arr: np.ndarray) -> np.ndarray:
    # Same-size unsigned view: wrap-around arithmetic for every int dtype.
    return arr.view(f"<u{arr.dtype.itemsize}")


def encode_array(arr: np.ndarray) -> bytes:
    """Encode a 1-D integer (or bool) array to compact bytes.

    Parameters
    ----------
    arr : array_like
        1-D array of an integer or bool dtype; the dtype is kept (in
        little-endian byte order).

    Returns
    -------
    bytes
        Decode with :func:`decode_array`.
    """
    arr = np.asarray(arr)
    if arr.ndim != 1:
        raise CodecError(f"only 1-D arrays can be encoded, got shape {arr.shape}")
    try:
        code = _DTYPE_CODE[arr.dtype.newbyteorder("<") if arr.dtype.itemsize > 1 else arr.dtype]
    except KeyError:
        raise CodecError(f"cannot encode arrays of dtype {arr.dtype}") from None
    little = np.ascontiguousarray(arr, dtype=np.dtype(_DTYPES[code]))
    n = len(little)
    if n == 0:
        return bytes([_EMPTY, code])
    u = _unsigned(little.view(np.uint8) if code == 0 else little)
    if n == 1 or bool(np.all(u[1:] == u[0])):
        return bytes([_CONST, code]) + _varint(n) + _varint(int(u[0]))
    diff = u[1:] - u[:-1]  # wraps: exact modulo 2**bits
    if bool(np.all(diff == diff[0])):
        return bytes([_ARITH, code]) + _varint(n) + _varint(int(u[0])) + _varint(int(diff[0]))
    return min(
        (_encode_rle(u, code), _encode_delta(u, diff, code), _encode_raw(u, code)), key=len
    )


def _encode_rle(u: np.ndarray, code: int) -> bytes:
    starts = np.flatnonzero(np.concatenate(([True], u[1:] != u[:-1])))
    lengths = np.diff(np.append(starts, len(u))).astype("<u8")
    payload = u[starts].tobytes() + lengths.tobytes()
    return bytes([_RLE, code]) + _varint(len(starts)) + zlib.compress(payload)


def _encode_delta(u: np.ndarray, diff: np.ndarray, code: int) -> bytes:
    return bytes([_DELTA, code]) + _varint(int(u[0])) + zlib.compress(diff.tobytes())


def _encode_raw(u: np.ndarray, code: int) -> bytes:
    return bytes([_RAW, code]) + zlib.compress(u.tobytes())


def decode_array(data: bytes) -> np.ndarray:
    """Decode bytes made by :func:`encode_array` back to the exact array.

    Raises
    ------
    CodecError
        If *data* is not a valid encoding.
    """
    if len(data) < 2 or data[0] > _RAW or data[1] >= len(_DTYPES):
        raise CodecError("not an encoded array (bad header)")
    tag, code = data[0], data[1]
    dtype = np.dtype(_DTYPES[code])
    udtype = np.dtype(np.uint8) if code == 0 else np.dtype(f"<u{dtype.itemsize}")
    try:
        u = _decode_unsigned(tag, data, udtype)
    except (zlib.error, ValueError, OverflowError) as exc:
        raise CodecError(f"corrupt encoded array: {exc}") from None
    return u.view(dtype) if code else u.astype(bool)


def _decode_unsigned(tag: int, data: bytes, udtype: np.dtype) -> np.ndarray:
    pos = 2
    if tag == _EMPTY:
        return np.zeros(0, dtype=udtype)
    if tag in (_CONST, _ARITH):
        n, pos = _read_varint(data, pos)
        start, pos = _read_varint(data, pos)
        if tag == _CONST:
            return np.full(n, start, dtype=udtype)
        step, pos = _read_varint(data, pos)
        return np.arange(n, dtype=udtype) * udtype.type(step) + udtype.type(start)
    if tag == _DELTA:
        start, pos = _read_varint(data, pos)
        diff = np.frombuffer(zlib.decompress(data[pos:]), dtype=udtype)
        out = np.empty(len(diff) + 1, dtype=udtype)
        out[0] = start
        np.cumsum(diff, out=out[1:])
        out[1:] += udtype.type(start)
        return out
    if tag == _RLE:
        nruns, pos = _read_varint(data, pos)
        payload = zlib.decompress(data[pos:])
        split = nruns * udtype.itemsize
        values = np.frombuffer(payload[:split], dtype=udtype)
        lengths = np.frombuffer(payload[split:], dtype="<u8")
        return np.repeat(values, lengths.astype(np.intp))
    return np.frombuffer(zlib.decompress(data[pos:]), dtype=udtype).copy()


# ---- dtypes ---------------------------------------------------------------

_VLEN_STR = "vlen-str:"
_VLEN = "vlen:"
_JSON = "json:"


def dtype_to_str(dtype: np.dtype) -> str:
    """Text form of a dataset's numpy dtype, for records and the catalogue.

    Simple dtypes give ``dtype.str`` (``'<u2'``, ``'|S10'``). h5py
    variable-length strings give ``'vlen-str:utf-8'`` / ``'vlen-str:ascii'``
    (numpy sees them as ``object``), other variable-length types
    ``'vlen:<base>'`` and compound types ``'json:<descr>'``.
    """
    import h5py

    dtype = np.dtype(dtype)
    string_info = h5py.check_string_dtype(dtype)
    if string_info is not None and string_info.length is None:
        return _VLEN_STR + string_info.encoding
    vlen_base = h5py.check_vlen_dtype(dtype)
    if vlen_base is not None:
        return _VLEN + dtype_to_str(vlen_base)
    if dtype.fields is not None:
        return _JSON + json.dumps(dtype.descr)
    return dtype.str


def dtype_from_str(text: str) -> np.dtype:
    """Inverse of :func:`dtype_to_str` (h5py string/vlen dtypes restored)."""
    import h5py

    if text.startswith(_VLEN_STR):
        return h5py.string_dtype(encoding=text[len(_VLEN_STR):])
    if text.startswith(_VLEN):
        return h5py.vlen_dtype(dtype_from_str(text[len(_VLEN):]))
    if text.startswith(_JSON):
        return np.dtype(_descr_from_json(json.loads(text[len(_JSON):])))
    return np.dtype(text)


def _descr_from_json(obj: Any) -> Any:
    # JSON turns the descr's tuples into lists; numpy needs the tuples back.
    if isinstance(obj, list) and obj and all(isinstance(f, list) for f in obj):
        return [tuple(_descr_from_json(part) for part in field) for field in obj]
    if isinstance(obj, list):
        return tuple(obj) if all(isinstance(x, int) for x in obj) else obj
    return obj
