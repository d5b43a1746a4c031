"""Where each module's data goes in a combined detector array, and reading it there.

A combined array has one row per module and one slot per frame (or per
train) of the detector's selected trains. Each module's data is found as
contiguous file chunks (:func:`~extra_catalog.reader.chunks.find_chunks`,
from the INDEX the catalogue holds), and each chunk is cut into
:class:`Piece` s whose frames land on consecutive slots: a module missing a
train breaks a chunk in two. Planning opens no file; :func:`read_pieces`
reads each piece with one contiguous read, so the plan can be split by
trains into dask tasks that each open only their own files.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..reader.chunks import DataChunk, read_chunks

__all__ = ["Piece", "plan_module", "restrict", "assign_parts", "read_pieces", "out_array",
           "slot_starts"]

#: Above this many separate runs of selected frames in one piece, read the
#: whole piece and pick frames in memory rather than one read per run.
MAX_RUN_READS = 4


@dataclass(frozen=True, slots=True)
class Piece:
    """Contiguous rows of one module's dataset that fill consecutive slots.

    Attributes
    ----------
    row : int
        Module row in the combined array.
    slot : int
        First slot (frame or train, before any pulse selection) it fills.
    chunk : DataChunk
        The source rows: whole trains of one file.
    """

    row: int
    slot: int
    chunk: DataChunk

    @property
    def n(self) -> int:
        """Slots (entries) the piece fills."""
        return self.chunk.total_count


def slot_starts(counts: np.ndarray) -> np.ndarray:
    """First slot of each train when train *i* takes ``counts[i]`` slots."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.cumsum(counts) - counts


def plan_module(row: int, chunks: Iterable[DataChunk], train_ids: np.ndarray,
                expected: np.ndarray, what: str) -> list[Piece]:
    """Cut one module's chunks into pieces that each fill consecutive slots.

    Parameters
    ----------
    row : int
        The module's row in the combined array.
    chunks : iterable of DataChunk
        The module's data for (a subset of) *train_ids*.
    train_ids : numpy.ndarray
        The detector's selected trains (sorted).
    expected : numpy.ndarray
        Entries each of those trains takes in the combined array.
    what : str
        Source and key, for error messages.

    Raises
    ------
    ValueError
        The module has a number of entries for a train other than 0 or
        what the combined array expects (modules that disagree cannot be
        stacked).
    """
    starts = slot_starts(expected)
    pieces = []
    for chunk in chunks:
        pos = np.searchsorted(train_ids, chunk.train_ids)
        counts = chunk.counts.astype(np.int64)
        nz = np.flatnonzero(counts)
        if not len(nz):
            continue
        wrong = counts[nz] != expected[pos[nz]]
        if wrong.any():
            i = nz[np.argmax(wrong)]
            raise ValueError(f"{what}: train {chunk.train_ids[i]} has {counts[i]} entries, "
                             f"but the detector has {expected[pos[i]]} for it; the modules "
                             f"cannot be combined (select trains where they agree)")
        rows = chunk.first + slot_starts(counts)
        slots = starts[pos[nz]]
        breaks = np.flatnonzero(slots[1:] != slots[:-1] + counts[nz[:-1]]) + 1
        for group in np.split(nz, breaks):
            a, b = int(group[0]), int(group[-1]) + 1
            sub = DataChunk(chunk.file, chunk.dataset_path, int(rows[a]),
                            chunk.train_ids[a:b], chunk.counts[a:b])
            pieces.append(Piece(row, int(starts[pos[a]]), sub))
    return pieces


def restrict(piece: Piece, lo: int, hi: int) -> Piece | None:
    """The part of *piece* filling slots ``[lo, hi)`` (whole trains), or None."""
    if piece.slot >= hi or piece.slot + piece.n <= lo:
        return None
    if lo <= piece.slot and piece.slot + piece.n <= hi:
        return piece
    counts = piece.chunk.counts.astype(np.int64)
    train_slots = piece.slot + slot_starts(counts)
    keep = (train_slots >= lo) & (train_slots < hi)
    a = int(np.argmax(keep))
    b = a + int(keep.sum())
    first = piece.chunk.first + int(counts[:a].sum())
    sub = DataChunk(piece.chunk.file, piece.chunk.dataset_path, first,
                    piece.chunk.train_ids[a:b], piece.chunk.counts[a:b])
    return Piece(piece.row, int(train_slots[a]), sub)


def out_array(shape: tuple[int, ...], dtype: np.dtype, fill_value: Any = None) -> np.ndarray:
    """An array filled with *fill_value* (default NaN for floats, else 0).

    Raises
    ------
    ValueError
        *fill_value* cannot be stored in *dtype* (e.g. NaN in integers).
    """
    if fill_value is None:
        fill_value = np.nan if dtype.kind == "f" else 0
    fill = dtype.type(fill_value)
    if fill == 0:  # zeroed memory is cheaper to allocate than writing zeros
        return np.zeros(shape, dtype=dtype)
    return np.full(shape, fill, dtype=dtype)


def read_pieces(pieces: Sequence[Piece], out: np.ndarray, roi: tuple[Any, ...] = (), *,
                selected: np.ndarray | None = None, first_slot: int = 0,
                extra_dim: bool = False) -> None:
    """Read pieces into ``out[row, slot - first_slot]``.

    Parameters
    ----------
    pieces : sequence of Piece
        All within the slots *out* covers.
    out : numpy.ndarray
        ``(rows, slots, *entry)``, already filled for missing data.
    roi : tuple
        Index applied to each entry.
    selected : numpy.ndarray of bool, optional
        Which of the slots from *first_slot* on are wanted (a pulse
        selection); the wanted ones are packed together in *out*.
        Default: all.
    first_slot : int
        Slot that goes to ``out[:, 0]``.
    extra_dim : bool
        Entries in the files have a leading axis of length 1 (raw LPD and
        DSSC) that *out* drops.
    """
    if extra_dim:
        out = out.reshape(out.shape[:2] + (1,) + out.shape[2:])
        roi = (slice(None),) + tuple(roi)
    packed = None if selected is None else np.cumsum(selected) - selected
    for piece in pieces:
        start = piece.slot - first_slot
        if selected is None or packed is None:
            read_chunks([piece.chunk], out[piece.row, start:start + piece.n], roi)
            continue
        mask = selected[start:start + piece.n]
        if not mask.any():
            continue
        begin = int(packed[start])
        _read_selected(piece.chunk, mask, out[piece.row, begin:begin + int(mask.sum())], roi)


def assign_parts(pieces: Iterable[Piece], bounds: np.ndarray) -> list[list[Piece]]:
    """Split pieces among parts of slots ``[bounds[i], bounds[i + 1])`` (train boundaries)."""
    bounds = np.asarray(bounds, dtype=np.int64)
    parts: list[list[Piece]] = [[] for _ in range(len(bounds) - 1)]
    for piece in pieces:
        first = int(np.searchsorted(bounds, piece.slot, side="right")) - 1
        end = piece.slot + piece.n
        if end <= bounds[first + 1]:  # most pieces sit inside one part
            parts[first].append(piece)
            continue
        counts = piece.chunk.counts.astype(np.int64)
        starts = slot_starts(counts)
        inner = bounds[(bounds > piece.slot) & (bounds < end)]
        cuts = [0] + np.searchsorted(piece.slot + starts, inner).tolist() + [len(counts)]
        for a, b in zip(cuts[:-1], cuts[1:]):
            if a == b:
                continue
            sub = DataChunk(piece.chunk.file, piece.chunk.dataset_path,
                            piece.chunk.first + int(starts[a]), piece.chunk.train_ids[a:b],
                            piece.chunk.counts[a:b])
            slot = piece.slot + int(starts[a])
            parts[int(np.searchsorted(bounds, slot, side="right")) - 1].append(
                Piece(piece.row, slot, sub))
    return parts


def _read_selected(chunk: DataChunk, mask: np.ndarray, dest: np.ndarray,
                   roi: tuple[Any, ...]) -> None:
    """Read the rows of *chunk* where *mask* is True into *dest*, packed."""
    if mask.all():
        read_chunks([chunk], dest, roi)
        return
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    runs = list(zip(edges[::2].tolist(), edges[1::2].tolist()))
    if len(runs) <= MAX_RUN_READS:
        cursor = 0
        for a, b in runs:
            part = DataChunk(chunk.file, chunk.dataset_path, chunk.first + a,
                             chunk.train_ids[:1], np.array([b - a], dtype=np.uint64))
            read_chunks([part], dest[cursor:cursor + b - a], roi)
            cursor += b - a
        return
    # Many scattered frames: one read of the whole range beats many small ones.
    tmp = np.empty((len(mask),) + dest.shape[1:], dtype=dest.dtype)
    read_chunks([chunk], tmp, roi)
    np.compress(mask, tmp, axis=0, out=dest)
