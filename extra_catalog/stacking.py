"""Stack the per-module arrays of one train into a single detector array.

:func:`stack_data` and :func:`stack_detector_data` take the ``{source: {key:
array}}`` dictionary a train iteration yields (``run.trains()``,
``run.train_from_id()``) and stack one key across sources. The detector
version places each module by the number in its source name, fills missing
or empty modules, and can return a :class:`StackView` that copies nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["stack_data", "stack_detector_data", "StackView"]


def _digit_groups(name: str) -> list[int]:
    """The groups of digits in *name* as integers: the sort key of sources."""
    return [int(d) for d in re.findall(r"\d+", name)]


def stack_data(train: Mapping[str, Mapping[str, Any]], data: str, axis: int = -3,
               xcept: Any = ()) -> np.ndarray:
    """Stack one key of every source of a train along a new axis.

    Sources are ordered by the integers formed by the groups of digits in
    their names (other characters are ignored), so ``"B_7_0"`` comes before
    ``"A_12_0"``. For detector modules use :func:`stack_detector_data`,
    which also handles missing modules.

    Parameters
    ----------
    train : dict
        ``{source: {key: array}}`` for one train.
    data : str
        The key to stack, e.g. ``'image.data'``.
    axis : int
        Position of the new axis in the result.
    xcept : collection of str
        Sources to leave out.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        No source is left after *xcept*, or the arrays' dtypes differ.
    """
    sources = [s for s in train if s not in xcept]
    if not sources:
        raise ValueError("No data after filtering by 'xcept' argument.")
    arrays = [train[s][data] for s in sorted(sources, key=_digit_groups)]
    dtypes = {a.dtype for a in arrays}
    if len(dtypes) > 1:
        raise ValueError(f"Arrays have mismatched dtypes: {dtypes}")
    return np.stack(arrays, axis=axis)


def stack_detector_data(train: Mapping[str, Mapping[str, Any]], data: str, axis: int = -3,
                        modules: int = 16, fillvalue: Any = None, real_array: bool = True, *,
                        pattern: str = r"/DET/(\d+)CH", starts_at: int = 0) -> Any:
    """Stack the modules of a detector for one train into one array.

    Parameters
    ----------
    train : dict
        ``{source: {key: array}}`` for one train; every source must be a
        module of the detector.
    data : str
        The key to stack, e.g. ``'image.data'``.
    axis : int
        Position of the module axis in the result (default -3, before the
        two pixel axes).
    modules : int
        Modules of the whole detector (default 16).
    fillvalue : number, optional
        Value for missing modules: default NaN for floating-point data and
        0 for integers.
    real_array : bool
        True (default) copies the data into a numpy array; False returns a
        :class:`StackView` over the existing arrays, which is enough to
        assemble images with a detector geometry and copies nothing.
    pattern : str
        Regular expression finding the module number in a source name, as
        its first group, e.g. ``r'/DET/JNGFR(\\d+)'`` for JUNGFRAU.
    starts_at : int
        The number of the first module (e.g. 1 when modules are numbered
        1-16); not guessed, as the first module may be missing.

    Returns
    -------
    numpy.ndarray or StackView

    Raises
    ------
    ValueError
        *train* is empty, a source does not match *pattern*, or the module
        arrays have different dtypes or shapes (empty modules, with a first
        dimension of 0, are treated as missing).
    IndexError
        A module number is beyond *modules*.
    """
    if not train:
        raise ValueError("No data")
    arrays: dict[int, np.ndarray] = {}
    for src, src_data in train.items():
        match = re.search(pattern, src)
        if not match:
            raise ValueError(f"Source {src!r} doesn't match pattern {pattern!r}")
        if data in src_data:
            arrays[int(match.group(1)) - starts_at] = src_data[data]
    if not arrays:
        raise ValueError(f"No source in this train has the key {data!r}")
    dtypes = {a.dtype for a in arrays.values()}
    if len(dtypes) > 1:
        raise ValueError(f"Arrays have mismatched dtypes: {dtypes}")
    shape = _common_shape(arrays)
    highest = max(arrays)
    if highest >= modules:
        raise IndexError(f"Module {highest} is out of range for a detector with "
                         f"{modules} modules")
    dtype = dtypes.pop()
    if fillvalue is None:
        fillvalue = np.nan if dtype.kind == "f" else 0
    fillvalue = dtype.type(fillvalue)  # refuses a value the dtype cannot hold
    view = StackView(arrays, modules, shape, dtype, fillvalue, stack_axis=axis)
    return view.asarray() if real_array else view


def _common_shape(arrays: dict[int, np.ndarray]) -> tuple[int, ...]:
    """The one shape of the module arrays, dropping (in place) empty modules.

    A module with no frames in a train (first dimension 0, other dimensions
    as the rest) counts as missing, so its place is filled.
    """
    shapes = {a.shape for a in arrays.values()}
    if len(shapes) == 1:
        return shapes.pop()
    ordered = sorted(shapes)
    empty, full = ordered[0], ordered[1]
    if len(shapes) > 2 or empty[0] != 0 or empty[1:] != full[1:]:
        raise ValueError(f"Arrays have mismatched shapes: {shapes}")
    for modno in [m for m, a in arrays.items() if a.shape == empty]:
        del arrays[modno]
    return full


class StackView:
    """A read-only, array-like stack of module arrays that copies nothing.

    Index it with a single module number or ``:`` on the module axis (the
    other axes take any numpy index), which is what assembling an image
    needs; :meth:`asarray` copies everything into a numpy array.

    Parameters
    ----------
    data : dict of int to numpy.ndarray
        Module number -> that module's array.
    nmodules : int
        Modules of the whole detector.
    mod_shape : tuple of int
        Shape of one module's array.
    dtype : numpy.dtype
    fillvalue : scalar
        Value of missing modules.
    stack_axis : int
        Position of the module axis.
    """

    def __init__(self, data: dict[int, np.ndarray], nmodules: int, mod_shape: tuple[int, ...],
                 dtype: np.dtype, fillvalue: Any, stack_axis: int = -3) -> None:
        self._data = data
        self._nmodules = nmodules
        self._mod_shape = tuple(mod_shape)
        self.dtype = dtype
        self._fillvalue = fillvalue
        self.ndim = len(self._mod_shape) + 1
        self._stack_axis = stack_axis + self.ndim if stack_axis < 0 else stack_axis
        ax = self._stack_axis
        self.shape = self._mod_shape[:ax] + (nmodules,) + self._mod_shape[ax:]

    def __repr__(self) -> str:
        return (f"<VirtualStack (shape={self.shape}, {len(self._data)}/{self._nmodules} "
                f"modules, dtype={self.dtype})>")

    def _full_index(self, index: Any) -> tuple[Any, ...]:
        index = index if isinstance(index, tuple) else (index,)
        if Ellipsis in index:
            at = index.index(Ellipsis)
            fill = (slice(None),) * (self.ndim - len(index) + 1)
            return index[:at] + fill + index[at + 1:]
        return index + (slice(None),) * (self.ndim - len(index))

    def __getitem__(self, index: Any) -> Any:
        index = self._full_index(index)
        ax = self._stack_axis
        modno, rest = index[ax], index[:ax] + index[ax + 1:]
        if isinstance(modno, (int, np.integer)):
            modno = int(modno)
            return self._module(modno + self._nmodules if modno < 0 else modno)[rest]
        if modno == slice(None):
            picked = {m: a[rest] for m, a in self._data.items()}
            shape = next(iter(picked.values())).shape
            # The module axis moves left by one for each axis before it an int removes.
            axis = sum(not isinstance(i, (int, np.integer)) for i in index[:ax])
            return StackView(picked, self._nmodules, shape, self.dtype, self._fillvalue,
                             stack_axis=axis)
        raise ValueError("VirtualStack can only slice a single module or all modules")

    def _module(self, modno: int) -> np.ndarray:
        if modno in self._data:
            return self._data[modno]
        if not 0 <= modno < self._nmodules:
            raise IndexError(modno)
        return np.full(self._mod_shape, self._fillvalue, self.dtype)

    def asarray(self) -> np.ndarray:
        """Copy the stack into a numpy array (missing modules filled)."""
        out = np.full((self._nmodules,) + self._mod_shape, self._fillvalue, dtype=self.dtype)
        for modno, arr in self._data.items():
            out[modno] = arr
        return np.moveaxis(out, 0, self._stack_axis)

    def squeeze(self, axis: int | tuple[int, ...] | None = None) -> Any:
        """Drop axes of length 1, as :func:`numpy.squeeze`."""
        if axis is None:
            index = [0 if n == 1 else slice(None) for n in self.shape]
        elif isinstance(axis, (int, tuple)):
            index = [slice(None)] * self.ndim
            for ax in (axis,) if isinstance(axis, int) else axis:
                if not -self.ndim <= ax < self.ndim:
                    raise np.exceptions.AxisError(
                        f"axis {ax} is out of bounds for array of dimension {self.ndim}")
                if self.shape[ax] != 1:
                    raise ValueError("cannot squeeze out an axis with size != 1")
                index[ax] = 0
        else:
            raise TypeError(f"axis={axis!r} not supported")
        return self[tuple(index)]
