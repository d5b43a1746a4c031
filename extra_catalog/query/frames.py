"""Query results as pandas DataFrames, built column by column.

``DataFrame.from_records`` infers every column through generic object
conversion; for the few dozen rows of a typical query that costs more than
the query itself. :func:`records_frame` builds the same frame (same dtypes,
values and index) from typed column arrays when every column is of a plain
kind (integers, floats, strings with or without NULLs, only NULLs) and
falls back to ``from_records`` otherwise. numpy and pandas are imported
when the first frame is made, as elsewhere in the query layer.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Collection, Sequence
from functools import lru_cache
from typing import Any

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

    names = tuple(columns)
    replace = replace or {}
    arrays = None
    if rows and len(set(names)) == len(names):
        arrays = _typed_columns(names, rows, skip=replace.keys())
    if arrays is None:
        frame = pd.DataFrame.from_records(list(rows), columns=list(names))
        for name, values in replace.items():
            frame[name] = values
        return frame
    arrays.update(replace)
    return _from_columns(names, [arrays[name] for name in names], len(rows))


def _from_columns(names: tuple[str, ...], arrays: list[Any], length: int) -> Any:
    """A frame of typed column arrays of equal *length*, with a RangeIndex.

    ``DataFrame._from_arrays`` (pandas' own constructor for this, which
    skips checking the arrays again) when this pandas has it: the public
    constructors cost twice as long, half of it inferring the column index.
    """
    import pandas as pd

    build = getattr(pd.DataFrame, "_from_arrays", None)
    if build is not None:
        try:
            # A view: a caller setting frame.columns.name must not change the cached index.
            return build(arrays, columns=_column_index(names).view(), index=pd.RangeIndex(length),
                         verify_integrity=False)
        except TypeError:  # a pandas with another signature
            pass
    return pd.DataFrame(dict(zip(names, arrays)), copy=False)


@lru_cache(maxsize=256)
def _column_index(names: tuple[str, ...]) -> Any:
    import pandas as pd

    return pd.Index(list(names))


def _typed_columns(names: Sequence[str], rows: Sequence[Sequence[Any]],
                   skip: Collection[str] = ()) -> dict[str, Any] | None:
    """Column arrays as ``from_records`` infers them; None if a column is not plain.

    Columns named in *skip* are left out.
    """
    import numpy as np

    arrays: dict[str, Any] = {}
    for name, values in zip(names, zip(*rows)):
        if name in skip:
            continue
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
    import numpy as np
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
    import numpy as np
    import pandas as pd

    if None in values:
        mask = np.array([v is None for v in values], dtype=bool)
        data = np.array([0 if v is None else v for v in values], dtype=np.uint64)
    else:
        mask = np.zeros(len(values), dtype=bool)
        data = np.array(values, dtype=np.uint64)
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
