"""Codec: lossless compact encoding of per-train arrays and of dtypes."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from extra_catalog.fileaccess.codec import (CodecError, decode_array, dtype_from_str,
                                            dtype_to_str, encode_array)

INT_DTYPES = ["u1", "u2", "u4", "u8", "i1", "i2", "i4", "i8"]


def roundtrip(arr: np.ndarray) -> np.ndarray:
    out = decode_array(encode_array(arr))
    assert out.dtype == arr.dtype
    np.testing.assert_array_equal(out, arr)
    return out


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(INT_DTYPES).flatmap(
    lambda dt: hnp.arrays(np.dtype(dt), st.integers(0, 60),
                          elements=hnp.from_dtype(np.dtype(dt)))))
def test_any_integer_array_roundtrips(arr: np.ndarray) -> None:
    roundtrip(arr)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1), st.integers(1, 50))
def test_arithmetic_uint64_roundtrips_at_limits(start: int, step: int, n: int) -> None:
    # Arithmetic progressions wrap modulo 2**64 exactly like numpy does.
    arr = np.uint64(start) + np.arange(n, dtype=np.uint64) * np.uint64(step)
    roundtrip(arr)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([0, 1, 2**63 - 1, 2**63, 2**64 - 2, 2**64 - 1]),
                min_size=0, max_size=40))
def test_uint64_extremes_roundtrip(values: list[int]) -> None:
    roundtrip(np.array(values, dtype=np.uint64))


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_integer_limits_of_every_dtype(dtype: str) -> None:
    info = np.iinfo(dtype)
    roundtrip(np.array([info.min, info.max, info.min, 0, info.max], dtype=dtype))
    roundtrip(np.full(7, info.max, dtype=dtype))
    roundtrip(np.array([info.max, info.min], dtype=dtype))  # step wraps


def test_common_index_arrays_are_tiny() -> None:
    n = 5000
    control_first = np.arange(n, dtype=np.uint64)
    control_count = np.ones(n, dtype=np.uint64)
    tids = np.arange(10**9, 10**9 + n, dtype=np.uint64)
    for arr in (control_first, control_count, tids):
        assert len(encode_array(arr)) <= 20
    assert len(encode_array(np.zeros(0, dtype=np.uint64))) == 2
    flags = np.ones(n, dtype=np.uint8)
    flags[[10, 2000]] = 0
    assert len(encode_array(flags)) < 60
    gappy = tids.copy()
    gappy[100:] += np.uint64(7)
    assert len(encode_array(gappy)) < 100
    roundtrip(gappy)
    roundtrip(flags)


def test_bool_arrays_roundtrip() -> None:
    roundtrip(np.array([True, False, False, True]))


def test_big_endian_input_decodes_to_same_values() -> None:
    arr = np.array([1, 5, 2**31], dtype=">u4")
    out = decode_array(encode_array(arr))
    np.testing.assert_array_equal(out, arr)
    assert out.dtype == np.dtype("<u4")


@pytest.mark.parametrize("bad", [np.zeros((2, 2), "u8"), np.zeros(3, "f8"), np.array(["a"])])
def test_unsupported_arrays_rejected(bad: np.ndarray) -> None:
    with pytest.raises(CodecError):
        encode_array(bad)


@pytest.mark.parametrize("data", [b"", b"\x09\x00", b"\x05\x04garbage", b"\x02\x04\xff"])
def test_corrupt_bytes_raise_codec_error(data: bytes) -> None:
    with pytest.raises(CodecError):
        decode_array(data)


@pytest.mark.parametrize("dtype", [
    np.dtype("<u2"), np.dtype("<f4"), np.dtype("|S10"), np.dtype("|b1"), np.dtype(">i8"),
    np.dtype([("x", "<f4"), ("y", "<u8", (3,))]),
])
def test_simple_and_compound_dtypes_roundtrip(dtype: np.dtype) -> None:
    assert dtype_from_str(dtype_to_str(dtype)) == dtype


def test_vlen_string_dtype_restored_as_h5py_string() -> None:
    for enc in ("utf-8", "ascii"):
        text = dtype_to_str(h5py.string_dtype(enc))
        assert text == f"vlen-str:{enc}"
        back = dtype_from_str(text)
        assert back.kind == "O"
        assert h5py.check_string_dtype(back).encoding == enc


def test_vlen_numeric_dtype_restored() -> None:
    back = dtype_from_str(dtype_to_str(h5py.vlen_dtype(np.dtype("<i4"))))
    assert h5py.check_vlen_dtype(back) == np.dtype("<i4")
