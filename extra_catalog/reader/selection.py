"""Train selection: turn every selector form into positions into ``train_ids``.

This module is pure numpy. It knows nothing of files or the catalogue: the
reader hands it the sorted, unique ``train_ids`` of a collection (uint64) and
a selector, and gets back the sorted positions of the selected trains. The
forms accepted are those of EXtra-data's ``select_trains`` / ``dc[...]``:

* ``by_id[a:b:s]`` -- train IDs in ``[a, b)``; the IDs need not exist, the
  step counts positions;
* ``by_id[tid]``, ``by_id[[tids]]``, ``by_id[int array]`` -- the given IDs
  that exist (a warning if none does);
* a ``slice``, an integer (Python, numpy or a 0-d array), a list or integer
  array of positions, or any of these wrapped in ``by_index[...]``;
* a boolean array with one entry per train;
* a boolean ``xarray.DataArray`` with a ``trainId`` coordinate.

A selection is a set of trains, so the result is always sorted and unique:
duplicate or unordered positions and negative slice steps do not reorder or
repeat trains.
"""

from __future__ import annotations

import math
import operator
import sys
import warnings
from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "by_id",
    "by_index",
    "select_train_positions",
    "select_train_ids",
    "split_positions",
]

_UINT64_LIMIT = 2**64


class _SelectorMeta(type):
    """Lets ``by_id[...]`` build an instance from the subscript."""

    def __getitem__(cls, item: Any) -> Any:
        return cls(item)


class _Selector(metaclass=_SelectorMeta):
    """A selection value marked as meaning train IDs or positions."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        parts = self.value if isinstance(self.value, tuple) else (self.value,)
        inner = ", ".join(_subscript_text(part) for part in parts)
        return f"{type(self).__name__}[{inner}]"


def _subscript_text(value: Any) -> str:
    """Write one subscript element as it would be typed between brackets."""
    if value is Ellipsis:
        return "..."
    if isinstance(value, slice):
        start = "" if value.start is None else str(value.start)
        stop = "" if value.stop is None else str(value.stop)
        step = "" if value.step is None else f":{value.step}"
        return f"{start}:{stop}{step}"
    return repr(value)


class by_id(_Selector):  # noqa: N801 - EXtra-data's public name
    """Select trains by train ID: ``by_id[a:b]``, ``by_id[tid]``, ``by_id[[tids]]``.

    Examples
    --------
    >>> by_id[10000:10020:2]
    by_id[10000:10020:2]
    """


class by_index(_Selector):  # noqa: N801 - EXtra-data's public name
    """Select trains by position in the collection: ``by_index[:10]``, ``by_index[[0, 5]]``.

    Examples
    --------
    >>> by_index[...]
    by_index[...]
    """


# --- public entry points -----------------------------------------------------


def select_train_positions(
    train_ids: npt.ArrayLike, selector: Any, *, stacklevel: int = 2
) -> npt.NDArray[np.intp]:
    """Positions in ``train_ids`` of the trains a selector picks.

    Parameters
    ----------
    train_ids : array_like of uint64
        The collection's train IDs, sorted ascending and unique.
    selector : by_id, by_index, slice, int, list, numpy.ndarray or xarray.DataArray
        Any train selector EXtra-data accepts (see the module docstring).
    stacklevel : int, optional
        Passed on to :func:`warnings.warn`, counted from this function: the
        default 2 blames this function's caller. A reader method calling this
        for a user passes 3.

    Returns
    -------
    numpy.ndarray of intp
        Sorted, unique positions into ``train_ids``.

    Raises
    ------
    TypeError
        For selectors of an unsupported type (str, float, dict, tuple...),
        non-integer train IDs or positions, or a non-boolean xarray selector.
    IndexError
        For an integer or list position outside the collection (slices clip).
    ValueError
        For a boolean selector of the wrong length, an xarray selector without
        a ``trainId`` coordinate, a zero slice step, a ``by_id`` slice with a
        negative step, or ``train_ids`` that are not sorted and unique.

    Warns
    -----
    UserWarning
        "Train ID ... is before this run (starts at ...)" / "... is after this
        run (ends at ...)" when a ``by_id`` slice lies wholly outside the data,
        and "Given train IDs not found among N trains in collection" when none
        of a non-empty list of train IDs exists (EXtra-data's wording).
    """
    tids = _as_train_ids(train_ids)
    level = stacklevel + 1
    if isinstance(selector, by_index):
        if isinstance(selector.value, _Selector):
            raise TypeError(f"by_index[...] cannot wrap another selector: {selector!r}")
        return _positional(tids, selector.value)
    if isinstance(selector, by_id):
        return _by_id(tids, selector.value, level)
    if _is_xarray(selector):
        return _xarray_mask(tids, selector)
    return _positional(tids, selector)


def select_train_ids(
    train_ids: npt.ArrayLike, selector: Any, *, stacklevel: int = 2
) -> npt.NDArray[np.uint64]:
    """The train IDs a selector picks, as a sorted uint64 array.

    Same arguments, errors and warnings as :func:`select_train_positions`.
    """
    tids = _as_train_ids(train_ids)
    return tids[select_train_positions(tids, selector, stacklevel=stacklevel + 1)]


def split_positions(
    n: int, parts: int | None = None, trains_per_part: int | None = None
) -> list[slice]:
    """Split ``n`` consecutive trains into near-equal chunks (``split_trains``).

    With ``trains_per_part`` the number of chunks is ``ceil(n / trains_per_part)``,
    raised to ``min(parts, n)`` if ``parts`` is also given; with ``parts``
    alone it is ``min(parts, n)``. Chunk *i* of *k* is
    ``slice(i * n // k, (i + 1) * n // k)``, so sizes differ by at most one
    (11 trains with ``trains_per_part=8`` give 5 and 6, not 8 and 3).

    Parameters
    ----------
    n : int
        Number of trains (>= 0).
    parts : int, optional
        How many chunks; a minimum when ``trains_per_part`` is given.
    trains_per_part : int, optional
        The most trains in any chunk.

    Returns
    -------
    list of slice
        Consecutive slices covering ``range(n)``; empty when ``n == 0``.

    Raises
    ------
    ValueError
        If neither argument is given, or one is not a positive integer.
    """
    n = _non_negative_int(n, "n")
    if parts is not None:
        parts = _positive_int(parts, "parts")
    if trains_per_part is not None:
        trains_per_part = _positive_int(trains_per_part, "trains_per_part")
        n_parts = math.ceil(n / trains_per_part)
        if parts is not None:
            n_parts = max(n_parts, min(parts, n))
    elif parts is not None:
        n_parts = min(parts, n)
    else:
        raise ValueError("Either parts or trains_per_part must be specified")
    return [slice(i * n // n_parts, (i + 1) * n // n_parts) for i in range(n_parts)]


# --- by_id -------------------------------------------------------------------


def _by_id(tids: np.ndarray, value: Any, level: int) -> npt.NDArray[np.intp]:
    # ``level`` is the warnings stacklevel that is right inside the function
    # receiving it; each call one frame deeper passes ``level + 1``.
    if isinstance(value, slice):
        return _by_id_slice(tids, value, level + 1)
    if _is_int_like(value):
        return _by_id_list(tids, [operator.index(value)], level + 1)
    if isinstance(value, (list, np.ndarray)):
        return _by_id_list(tids, value, level + 1)
    raise TypeError(
        "by_id[...] takes a slice, a train ID, or a list or integer array of "
        f"train IDs, not {type(value).__name__}: {by_id(value)!r}"
    )


def _by_id_slice(tids: np.ndarray, sel: slice, level: int) -> npt.NDArray[np.intp]:
    step = 1 if sel.step is None else _int_or_raise(sel.step, "by_id slice step")
    if step <= 0:
        # A train selection is a set in train order; reversing it has no meaning.
        raise ValueError(f"by_id slices need a positive step, got {step}")
    start = _id_bound(tids, sel.start, is_stop=False, level=level + 1)
    stop = _id_bound(tids, sel.stop, is_stop=True, level=level + 1)
    return np.arange(len(tids), dtype=np.intp)[start:stop:step]


def _id_bound(tids: np.ndarray, tid: Any, *, is_stop: bool, level: int) -> int | None:
    """Slice bound (position) for a train ID that need not exist in ``tids``."""
    if tid is None:
        return None
    tid = _int_or_raise(tid, "by_id slice bound")
    if len(tids) == 0:
        warnings.warn(
            "Using train ID slice on data with no trains selected", stacklevel=level
        )
        return 0
    first, last = int(tids[0]), int(tids[-1])
    if is_stop and tid < first:
        warnings.warn(
            f"Train ID {tid} is before this run (starts at {first})", stacklevel=level
        )
        return 0
    if not is_stop and tid > last:
        warnings.warn(
            f"Train ID {tid} is after this run (ends at {last})", stacklevel=level
        )
        return len(tids)
    if tid <= first:
        return 0
    if tid > last:
        return len(tids)
    # First position whose ID is >= tid: the ID itself, or the next one present.
    return int(np.searchsorted(tids, np.uint64(tid), side="left"))


def _by_id_list(tids: np.ndarray, value: Any, level: int) -> npt.NDArray[np.intp]:
    result = _positions_of_ids(tids, _as_id_array(value))
    if len(result) == 0 and np.size(value) > 0:
        warnings.warn(
            f"Given train IDs not found among {len(tids)} trains in collection",
            stacklevel=level,
        )
    return result


def _positions_of_ids(tids: np.ndarray, wanted: np.ndarray) -> npt.NDArray[np.intp]:
    """Sorted unique positions of those ``wanted`` IDs (uint64) present in ``tids``."""
    pos = np.searchsorted(tids, wanted, side="left")
    inside = pos < len(tids)
    found = pos[inside][tids[pos[inside]] == wanted[inside]]
    return np.unique(found).astype(np.intp)


def _as_id_array(value: Any, what: str = "by_id[...]") -> npt.NDArray[np.uint64]:
    """Train IDs as uint64, dropping values no uint64 train ID can equal.

    Converting through int64 or float64 would lose bits near 2**64, so signed
    and Python-int inputs are range-checked before the cast.
    """
    arr = _list_to_array(value) if isinstance(value, list) else np.asarray(value)
    if arr.size == 0:
        return np.empty(0, dtype=np.uint64)
    if arr.ndim != 1:
        raise ValueError(f"{what} needs a 1-dimensional list of train IDs, got shape {arr.shape}")
    if arr.dtype.kind == "u":
        return arr.astype(np.uint64)
    if arr.dtype.kind == "i":
        return arr[arr >= 0].astype(np.uint64)
    if arr.dtype.kind == "O" and all(_is_int_like(v) for v in arr):
        kept = [int(v) for v in arr if 0 <= int(v) < _UINT64_LIMIT]
        return np.array(kept, dtype=np.uint64)
    raise TypeError(f"Train IDs must be integers, got {arr.dtype} values in {what}")


# --- positions ----------------------------------------------------------------


def _positional(tids: np.ndarray, sel: Any) -> npt.NDArray[np.intp]:
    n = len(tids)
    if isinstance(sel, slice):
        positions = np.arange(n, dtype=np.intp)[sel]
        # A negative step picks the same set of trains; keep train order.
        return positions[::-1] if sel.step is not None and sel.step < 0 else positions
    if _is_int_like(sel):
        return np.array([_checked_position(operator.index(sel), n)], dtype=np.intp)
    if isinstance(sel, (list, np.ndarray)):
        return _position_array(_list_to_array(sel) if isinstance(sel, list) else sel, n)
    raise TypeError(
        "Trains are selected with by_id[...], by_index[...], a slice, an integer, "
        "a list or array of positions, a boolean array or a boolean xarray.DataArray; "
        f"got {type(sel).__name__}"
    )


def _position_array(arr: np.ndarray, n: int) -> npt.NDArray[np.intp]:
    if arr.ndim == 0:
        raise TypeError(f"A 0-d train selector array must hold an integer, not {arr.dtype}")
    if arr.size == 0 and arr.dtype.kind in "fiuO":
        return np.empty(0, dtype=np.intp)
    if arr.ndim != 1:
        raise ValueError(f"Train selector arrays must be 1-dimensional, got shape {arr.shape}")
    if arr.dtype.kind == "b":
        if len(arr) != n:
            raise ValueError(
                f"Boolean selector length ({len(arr)}) must match train_ids length ({n})"
            )
        return np.flatnonzero(arr).astype(np.intp)
    if arr.dtype.kind in "iu" or (arr.dtype.kind == "O" and all(_is_int_like(v) for v in arr)):
        ints = [int(v) for v in arr] if arr.dtype.kind == "O" else arr
        return _checked_positions(ints, n)
    raise TypeError(f"Train positions must be integers or booleans, got {arr.dtype}")


def _list_to_array(values: list[Any]) -> np.ndarray:
    """A list as an array without numpy's silent float64 fallback.

    ``np.asarray([2**64 - 1, 0])`` is float64 and loses the low bits, so lists
    of integers get the narrowest exact integer dtype, or object for Python
    ints beyond 64 bits.
    """
    if values and all(_is_int_like(v) for v in values):
        ints = [operator.index(v) for v in values]
        low, high = min(ints), max(ints)
        if -(2**63) <= low and high < 2**63:
            return np.array(ints, dtype=np.int64)
        if low >= 0 and high < _UINT64_LIMIT:
            return np.array(ints, dtype=np.uint64)
        return np.array(ints, dtype=object)
    return np.asarray(values)


def _checked_positions(ints: Sequence[int] | np.ndarray, n: int) -> npt.NDArray[np.intp]:
    """Range-check positions (negative count from the end), then sort and deduplicate."""
    if isinstance(ints, np.ndarray) and ints.dtype.kind == "u":
        too_big = ints >= n
        if too_big.any():
            raise IndexError(_out_of_range(int(ints[too_big][0]), n))
        arr = ints.astype(np.intp)
    elif isinstance(ints, np.ndarray):
        arr = ints.astype(np.int64)
    else:
        arr = np.array([_checked_position(i, n) for i in ints], dtype=np.intp)
    bad = (arr < -n) | (arr >= n)
    if bad.any():
        raise IndexError(_out_of_range(int(arr[bad][0]), n))
    return np.unique(np.where(arr < 0, arr + n, arr)).astype(np.intp)


def _checked_position(i: int, n: int) -> int:
    if not -n <= i < n:
        raise IndexError(_out_of_range(i, n))
    return i + n if i < 0 else i


def _out_of_range(i: int, n: int) -> str:
    return f"Train index {i} is out of range for {n} selected trains"


# --- xarray masks ------------------------------------------------------------


def _is_xarray(obj: Any) -> bool:
    # If xarray was never imported, no DataArray can exist: no import needed.
    xr = sys.modules.get("xarray")
    return xr is not None and isinstance(obj, xr.DataArray)


def _xarray_mask(tids: np.ndarray, sel: Any) -> npt.NDArray[np.intp]:
    if sel.dtype != bool:
        raise TypeError(f"xarray selector must be boolean, got {sel.dtype}")
    if "trainId" not in sel.coords:
        raise ValueError("xarray selector must have a 'trainId' coordinate")
    mask = np.asarray(sel.values)
    coord = np.asarray(sel.coords["trainId"].values)
    if coord.shape != mask.shape:
        raise ValueError(
            f"xarray selector's trainId coordinate has shape {coord.shape}, "
            f"but its values have shape {mask.shape}"
        )
    wanted = _as_id_array(np.ravel(coord[mask]), "xarray selector's trainId coordinate")
    return _positions_of_ids(tids, wanted)


# --- small helpers -----------------------------------------------------------


def _as_train_ids(train_ids: npt.ArrayLike) -> npt.NDArray[np.uint64]:
    raw = _list_to_array(train_ids) if isinstance(train_ids, list) else np.asarray(train_ids)
    if raw.size == 0:
        return np.empty(0, dtype=np.uint64)
    if raw.ndim != 1 or raw.dtype.kind not in "iu":
        raise ValueError(
            f"train_ids must be a 1-dimensional integer array, got {raw.dtype} {raw.shape}"
        )
    arr = np.asarray(raw, dtype=np.uint64)
    if len(arr) > 1 and not (arr[1:] > arr[:-1]).all():
        raise ValueError("train_ids must be sorted ascending without repeats")
    return arr


def _is_int_like(x: Any) -> bool:
    """An integer scalar or 0-d integer array, but not a bool.

    ``True`` would otherwise mean position or train ID 1, which is never
    what a caller passing a flag meant.
    """
    if isinstance(x, np.ndarray):
        return x.ndim == 0 and x.dtype.kind in "iu"
    return isinstance(x, Integral) and not isinstance(x, (bool, np.bool_))


def _int_or_raise(x: Any, what: str) -> int:
    if not _is_int_like(x):
        raise TypeError(f"{what} must be an integer, got {type(x).__name__}: {x!r}")
    return operator.index(x)


def _positive_int(x: Any, name: str) -> int:
    if not _is_int_like(x) or operator.index(x) < 1:
        raise ValueError(f"{name} must be a positive integer, got {x!r}")
    return operator.index(x)


def _non_negative_int(x: Any, name: str) -> int:
    if not _is_int_like(x) or operator.index(x) < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {x!r}")
    return operator.index(x)
