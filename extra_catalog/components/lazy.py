"""dask arrays over a detector key: one task per group of whole trains.

The graph is built from the reading plan (:mod:`.alignment`) alone, so
building it opens no file. Each task holds only its own pieces — the rows
of the files holding its trains — and opens only those files when computed,
in whichever process or worker runs it. (In another process, each
:class:`~extra_catalog.fileaccess.FileAccess` is rebuilt from its file's
train IDs and source list, in the same open the data is read with.)
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .alignment import Piece, assign_parts, out_array, read_pieces

__all__ = ["PartReader", "pieces_dask_array"]


@dataclass(frozen=True)
class PartReader:
    """A dask task: read one group of trains of every module into a new array."""

    pieces: tuple[Piece, ...]
    shape: tuple[int, ...]
    dtype: np.dtype
    fill_value: Any
    first_slot: int
    selected: np.ndarray | None
    extra_dim: bool

    def __call__(self) -> np.ndarray:
        out = out_array(self.shape, self.dtype, self.fill_value)
        read_pieces(self.pieces, out, selected=self.selected, first_slot=self.first_slot,
                    extra_dim=self.extra_dim)
        return out


def pieces_dask_array(pieces: Sequence[Piece], bounds: np.ndarray, n_rows: int,
                      entry_shape: tuple[int, ...], dtype: np.dtype, *, fill_value: Any = None,
                      selected: np.ndarray | None = None, extra_dim: bool = False,
                      name: str = "multimod") -> Any:
    """A dask array ``(rows, selected slots, *entry_shape)`` read piece by piece.

    Parameters
    ----------
    pieces : sequence of Piece
        The whole reading plan.
    bounds : numpy.ndarray
        Slot boundaries of the dask chunks (at train boundaries), from 0
        to the number of slots.
    n_rows : int
        Module rows.
    entry_shape : tuple of int
        Shape of one entry in the result.
    dtype : numpy.dtype
        dtype of the result (data are converted on reading).
    fill_value : number, optional
        For missing data (see :func:`.alignment.out_array`).
    selected : numpy.ndarray of bool, optional
        Wanted slots (pulse selection); default all.
    extra_dim : bool
        See :func:`.alignment.read_pieces`.
    """
    try:
        import dask.array as da
        from dask.highlevelgraph import HighLevelGraph
    except ImportError:
        raise ImportError("dask_array() needs dask: install it with "
                          "`pip install 'dask[array]'`") from None
    dtype = np.dtype(dtype)
    out_array((0,), dtype, fill_value)  # an impossible fill value fails now, not in a task
    key_name = f"{name}-{uuid.uuid4().hex}"
    zeros = (0,) * len(entry_shape)
    graph: dict[tuple[Any, ...], Any] = {}
    sizes = []
    for i, part in enumerate(assign_parts(pieces, bounds)):
        lo, hi = int(bounds[i]), int(bounds[i + 1])
        local = None if selected is None else selected[lo:hi]
        n = hi - lo if local is None else int(local.sum())
        sizes.append(n)
        reader = PartReader(tuple(part), (n_rows, n) + tuple(entry_shape), dtype, fill_value,
                            lo, local, extra_dim)
        graph[(key_name, 0, i) + zeros] = (reader,)
    if not sizes:  # no trains: one empty chunk
        sizes = [0]
        graph[(key_name, 0, 0) + zeros] = (PartReader((), (n_rows, 0) + tuple(entry_shape),
                                                       dtype, fill_value, 0, None, False),)
    chunks = ((n_rows,), tuple(sizes)) + tuple((n,) for n in entry_shape)
    hlg = HighLevelGraph.from_collections(key_name, graph, dependencies=())
    meta = np.empty((0,) * (2 + len(entry_shape)), dtype=dtype)
    return da.Array(hlg, key_name, chunks, meta=meta)
