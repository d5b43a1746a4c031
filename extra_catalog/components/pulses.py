"""Pulse selection within trains for pulse-resolved (XTDF) detector data.

A selection is ``by_index[...]`` (positions within each train), ``by_id[...]``
(pulse IDs the detector recorded) or a bare slice, int or list (taken as
``by_index``). These functions are pure numpy over frame counts and pulse
IDs, so the detector classes only decide where those come from.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..reader.selection import by_id, by_index

__all__ = ["MAX_PULSES", "check_pulse_selection", "is_all_pulses", "select_by_index",
           "select_by_id", "positions_in_train"]

#: More pulses than a train can have: the open end of a pulse slice.
MAX_PULSES = 2700


def check_pulse_selection(pulses: Any) -> by_id | by_index:
    """Normalise a pulse selection: slices get integer bounds, the rest arrays.

    Raises
    ------
    TypeError
        A slice bound that is not an integer.
    ValueError
        A slice step below 1, or a negative pulse ID.
    NotImplementedError
        Negative pulse indices.
    """
    if not isinstance(pulses, (by_id, by_index)):
        pulses = by_index[pulses]
    kind = type(pulses)
    value = pulses.value
    if isinstance(value, slice):
        start = 0 if value.start is None else value.start
        stop = MAX_PULSES if value.stop is None else value.stop
        step = 1 if value.step is None else value.step
        if not all(isinstance(v, (int, np.integer)) for v in (start, stop, step)):
            raise TypeError("Pulse selection slice must use integers or None")
        if step < 1:
            raise ValueError("Pulse selection slice must have positive step")
        if start < 0 or stop < 0:
            raise NotImplementedError("Negative pulse indices not supported")
        return kind(slice(int(start), int(stop), int(step)))
    arr = np.atleast_1d(np.asarray(value))
    if arr.size == 0:
        arr = arr.astype(np.uint64)  # [] is float to numpy: nothing selected
    if arr.dtype.kind not in "iu":
        raise TypeError(f"Pulse selection must use integers, not {arr.dtype}")
    if (arr < 0).any():
        if kind is by_id:
            raise ValueError("Pulse IDs cannot be negative")
        raise NotImplementedError("Negative pulse indices not supported")
    return kind(arr.astype(np.uint64))


def is_all_pulses(pulses: by_id | by_index) -> bool:
    """Whether a normalised selection is the default one (every pulse)."""
    return (isinstance(pulses, by_index) and isinstance(pulses.value, slice)
            and pulses.value == slice(0, MAX_PULSES, 1))


def positions_in_train(pulses: by_index, count: int) -> np.ndarray:
    """Positions selected by index in a train of *count* frames."""
    value = pulses.value
    if isinstance(value, slice):
        return np.arange(count)[value]
    return np.unique(value[value < count]).astype(np.intp)


def select_by_index(pulses: by_index, counts: np.ndarray, stages: int = 1) -> np.ndarray:
    """Boolean mask over all frames of trains with *counts* frames each.

    With *stages* > 1 (LPD parallel gain), each train is that many equal
    blocks of frames, and the selection applies within each block.
    """
    counts = np.asarray(counts, dtype=np.int64)
    mask = np.zeros(int(counts.sum()), dtype=np.bool_)
    cursor = 0
    per_count: dict[int, np.ndarray] = {}  # trains mostly share one count
    for count in counts.tolist():
        block = count // stages
        if block not in per_count:
            per_count[block] = positions_in_train(pulses, block)
        for _ in range(stages):
            mask[cursor + per_count[block]] = True
            cursor += block
        cursor += count - block * stages
    return mask


def select_by_id(pulses: by_id, pulse_ids: np.ndarray) -> np.ndarray:
    """Boolean mask of the frames whose pulse ID is selected."""
    value = pulses.value
    if isinstance(value, slice):
        wanted = np.arange(value.start, value.stop, value.step, dtype=np.uint64)
    else:
        wanted = value
    return np.isin(pulse_ids, wanted)
