"""Pure conversions between records and column values (no SQL here).

Everything here must round-trip exactly: what :mod:`.store` writes with these
functions it reads back into records equal to the ones it was given,
including the Python types of scalars (``1``, ``1.0`` and ``True`` compare
equal but are kept apart).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from typing import Any

from ..records import KeyRecord, RunValueRecord, Scalar, trusted

__all__ = [
    "INT64_MIN",
    "INT64_MAX",
    "shape_to_text",
    "shape_from_text",
    "encode_lengths",
    "decode_lengths",
    "pairs_to_json",
    "pairs_from_json",
    "key_columns",
    "key_from_columns",
    "keyset_digest",
    "run_value_columns",
    "run_value_from_columns",
    "run_values_digest",
    "unit_of",
    "parse_file_name",
]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_FILE_NAME = re.compile(r"-R\d+-(?P<agg>[A-Za-z0-9_]+?)(?:-S(?P<seq>\d+))?\.h5$")


def shape_to_text(shape: tuple[int, ...] | None) -> str | None:
    """``(512, 128)`` -> ``'512,128'``; ``()`` -> ``''``; None stays None."""
    if shape is None:
        return None
    return ",".join(str(int(n)) for n in shape)


def shape_from_text(text: str | None) -> tuple[int, ...] | None:
    """Inverse of :func:`shape_to_text`."""
    if text is None:
        return None
    return tuple(int(n) for n in text.split(",")) if text else ()


def encode_lengths(lengths: Sequence[int]) -> str:
    """Run-length encode key lengths: ``[5, 5, 5, 2]`` -> ``'5*3,2'``.

    Keys of one index group share their length, so a source's lengths
    collapse to one item per group.
    """
    parts: list[str] = []
    i = 0
    while i < len(lengths):
        j = i
        while j < len(lengths) and lengths[j] == lengths[i]:
            j += 1
        run = j - i
        parts.append(f"{lengths[i]}*{run}" if run > 1 else str(lengths[i]))
        i = j
    return ",".join(parts)


def decode_lengths(text: str) -> list[int]:
    """Inverse of :func:`encode_lengths`."""
    lengths: list[int] = []
    for part in filter(None, text.split(",")):
        value, _, times = part.partition("*")
        lengths.extend([int(value)] * (int(times) if times else 1))
    return lengths


def pairs_to_json(pairs: Sequence[tuple[str, Scalar]]) -> str:
    """Ordered (name, scalar) pairs as compact JSON (NaN and infinities allowed)."""
    return json.dumps([[k, v] for k, v in pairs], separators=(",", ":"))


def pairs_from_json(text: str) -> tuple[tuple[str, Scalar], ...]:
    """Inverse of :func:`pairs_to_json`."""
    return tuple((k, v) for k, v in json.loads(text))


def unit_of(attrs: Sequence[tuple[str, Scalar]]) -> str | None:
    """Karabo unit of a key, prefix included (``'mJ'``), or None."""
    found = dict(attrs)
    symbol = found.get("unitSymbol")
    if not symbol:
        return None
    prefix = found.get("metricPrefixSymbol") or ""
    return f"{prefix}{symbol}"[:32]


def key_columns(key: KeyRecord) -> dict[str, Any]:
    """Columns of a ``keyset_keys`` row (everything but the per-file length)."""
    return {
        "name": key.name,
        "dtype": key.dtype,
        "entry_shape": shape_to_text(key.entry_shape),
        "chunks": shape_to_text(key.chunks),
        "compression": key.compression,
        "compression_opts": key.compression_opts,
        "shuffle": bool(key.shuffle),
        "unit": unit_of(key.attrs),
        "attrs": pairs_to_json(key.attrs),
    }


def key_from_columns(row: Any, length: int) -> KeyRecord:
    """Rebuild a :class:`KeyRecord` from a ``keyset_keys`` row and its length."""
    entry_shape = shape_from_text(row.entry_shape)
    assert entry_shape is not None
    return trusted(
        KeyRecord, name=row.name, dtype=row.dtype, entry_shape=entry_shape, length=length,
        chunks=shape_from_text(row.chunks), compression=row.compression,
        compression_opts=row.compression_opts, shuffle=bool(row.shuffle),
        attrs=pairs_from_json(row.attrs),
    )


def _digest(payload: object) -> str:
    text = json.dumps(payload, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def keyset_digest(keys: Sequence[KeyRecord]) -> str:
    """Content digest of a source's key descriptions (lengths excluded)."""
    # The sequence files of one aggregator repeat the same key lists, so the
    # digest is remembered by content: a 500-file run hashes each list once.
    signature = tuple((k.name, k.dtype, k.entry_shape, k.chunks, k.compression,
                       k.compression_opts, k.shuffle, k.attrs) for k in keys)
    digest = _KEYSET_DIGESTS.get(signature)
    if digest is None:
        if len(_KEYSET_DIGESTS) > 4096:
            _KEYSET_DIGESTS.clear()
        digest = _KEYSET_DIGESTS[signature] = _digest([key_columns(k) for k in keys])
    return digest


_KEYSET_DIGESTS: dict[tuple, str] = {}


def run_value_columns(value: RunValueRecord) -> dict[str, Any]:
    """Columns of a ``run_values`` row, with the scalar in a typed column."""
    columns: dict[str, Any] = {
        "key": value.key, "dtype": value.dtype, "shape": shape_to_text(value.shape),
        "summary": value.summary, "value_int": None, "value_float": None,
        "value_str": None,
    }
    scalar = value.value
    if scalar is None:
        columns["kind"] = "none"
    elif isinstance(scalar, bool):
        columns.update(kind="bool", value_int=int(scalar), value_float=float(scalar))
    elif isinstance(scalar, int):
        if INT64_MIN <= scalar <= INT64_MAX:
            columns.update(kind="int", value_int=scalar)
        else:
            columns.update(kind="bigint", value_str=str(scalar))
        columns["value_float"] = float(scalar)
    elif isinstance(scalar, float):
        # repr() round-trips exactly on every backend (SQLite would turn -0.0
        # into 0 and NaN into NULL); value_float is there for comparisons.
        columns.update(kind="float", value_str=repr(scalar),
                       value_float=scalar if math.isfinite(scalar) else None)
    elif isinstance(scalar, str):
        columns.update(kind="str", value_str=scalar)
    else:
        raise TypeError(f"run value {value.key!r} is a {type(scalar).__name__}, "
                        "not a str, int, float, bool or None")
    return columns


def run_value_from_columns(row: Any) -> RunValueRecord:
    """Rebuild a :class:`RunValueRecord` from a ``run_values`` row."""
    kind = row.kind
    value: Scalar
    if kind == "int":
        value = int(row.value_int)
    elif kind == "bool":
        value = bool(row.value_int)
    elif kind == "bigint":
        value = int(row.value_str)
    elif kind == "float":
        value = float(row.value_str)
    elif kind == "str":
        value = row.value_str
    else:
        value = None
    shape = shape_from_text(row.shape)
    assert shape is not None
    return RunValueRecord(key=row.key, dtype=row.dtype, shape=shape, value=value,
                          summary=row.summary)


def run_values_digest(values: Sequence[RunValueRecord]) -> str:
    """Content digest of a source's RUN values."""
    return _digest([run_value_columns(v) for v in values])


def parse_file_name(name: str) -> tuple[str | None, int | None]:
    """Aggregator and sequence of ``RAW-R0001-AGIPD00-S00002.h5`` (None if unknown)."""
    match = _FILE_NAME.search(name)
    if match is None:
        return None, None
    seq = match.group("seq")
    return match.group("agg")[:32], int(seq) if seq is not None else None
