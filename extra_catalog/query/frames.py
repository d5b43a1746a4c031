"""Query results as pandas DataFrames, built column by column.

``DataFrame.from_records`` infers every column through generic object
conversion; for the few dozen rows of a typical query that costs more than
the query itself. :func:`records_frame` builds the same frame (same dtypes,
values and index) from typed column arrays when every column is of a plain
kind (integers, floats, strings with or without NULLs, only NULLs) and
falls back to ``from_records`` otherwise.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["records_frame", "uint64_array"]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def records_frame(columns: Sequence[str], rows: Sequence[Sequence[Any]],
                  replace: dict[str, Any] | None = None) -> Any:
    """The frame ``DataFrame.from_records(rows, columns=columns)`` gives.

    Parameters
    ----------
    columns : sequence of str
        Column names.
    rows : sequence of tuples
        Row values, one per column.
    replace : dict, optional
        Arrays to use instead of the given columns (e.g. :func:`uint64_array`).
    """
    import pandas as pd

    names = list(columns)
    arrays = _typed_columns(names, rows) if rows and len(set(names)) == len(names) else None
    if arrays is None:
        frame = pd.DataFrame.from_records(list(rows), columns=names)
        for name, values in (replace or {}).items():
            frame[name] = values
        return frame
    arrays.update(replace or {})
    return pd.DataFrame(arrays, copy=False)


def _typed_columns(names: list[str], rows: Sequence[Sequence[Any]]) -> dict[str, Any] | None:
    """Column arrays as ``from_records`` infers them; None if a column is not plain."""
    arrays: dict[str, Any] = {}
    for name, values in zip(names, zip(*rows)):
        kinds = set(map(type, values))
        if kinds == {int}:
            if not (_INT64_MIN <= min(values) and max(values) <= _INT64_MAX):
                return None
            arrays[name] = np.array(values, dtype=np.int64)
        elif kinds == {float}:
            arrays[name] = np.array(values, dtype=np.float64)
        elif kinds <= {str, type(None)} and str in kinds:
            arrays[name] = _string_column()(values)
        elif kinds == {type(None)}:
            arrays[name] = np.array(values, dtype=object)
        else:
            return None
    return arrays


@lru_cache(maxsize=1)
def _string_column() -> Callable[[Sequence[str | None]], Any]:
    """How this pandas stores a column of strings (``from_records``'s choice).

    pandas 3 infers its ``str`` dtype (NULL as NaN), pandas 2 keeps objects.
    """
    import pandas as pd

    probe = pd.DataFrame.from_records([("a",), (None,)], columns=["a"])["a"].array
    if probe.dtype == np.dtype(object):
        return lambda values: np.array(values, dtype=object)
    dtype = probe.dtype
    if type(probe) is pd.arrays.StringArray:
        missing = dtype.na_value

        def strings(values: Sequence[str | None]) -> Any:
            data = np.array(values, dtype=object)
            if None in values:
                data[data == None] = missing  # noqa: E711 (elementwise)
            return pd.arrays.StringArray(data, dtype=dtype)
        return strings
    return lambda values: pd.array(np.array(values, dtype=object), dtype=dtype)


def uint64_array(values: Sequence[int | None]) -> Any:
    """Exact unsigned 64-bit integers, NULL as ``<NA>`` (pandas ``UInt64``)."""
    import pandas as pd

    mask = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    data = np.array([0 if v is None else v for v in values], dtype=np.uint64)
    return pd.arrays.IntegerArray(data, mask)


def decimal_columns(frame: Any, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Any:
    """Turn columns of ``Decimal`` (PostgreSQL NUMERIC) into exact integers or floats."""
    for at, name in enumerate(columns):
        # A database column has one type: its first non-NULL value tells
        # (checking every value of every column cost more than the query).
        first = next((row[at] for row in rows if row[at] is not None), None)
        if isinstance(first, decimal.Decimal):
            frame[name] = _from_decimal(frame[name])
    return frame


def _from_decimal(values: Any) -> Any:
    import pandas as pd

    plain = [v for v in values if v is not None]
    if all(v == v.to_integral_value() for v in plain):
        converted = [None if v is None else int(v) for v in values]
        if all(0 <= v < 2**64 for v in converted if v is not None):
            return uint64_array(converted)
        return pd.Series(converted, index=values.index, dtype=object)
    return values.astype(float)
