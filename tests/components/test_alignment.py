"""The reading plan: where each module's file rows go in a combined array (no file needed)."""

from __future__ import annotations

import numpy as np
import pytest

from extra_catalog.components.alignment import Piece, assign_parts, plan_module, restrict
from extra_catalog.reader.chunks import DataChunk

TIDS = np.arange(100, 106, dtype=np.uint64)


def _chunk(first: int, tids: list[int], counts: list[int]) -> DataChunk:
    return DataChunk(None, "/INSTRUMENT/x/image/data", first,  # type: ignore[arg-type]
                     np.array(tids, dtype=np.uint64), np.array(counts, dtype=np.uint64))


def _layout(pieces: list[Piece]) -> list[tuple[int, int, int, int]]:
    return [(p.row, p.slot, p.chunk.first, p.n) for p in pieces]


def test_a_missing_train_splits_a_chunk():
    expected = np.full(6, 3)
    # Rows 10.. hold trains 100, 101, (102 empty), 103: 102's slots stay unfilled.
    chunk = _chunk(10, [100, 101, 102, 103], [3, 3, 0, 3])
    pieces = plan_module(2, [chunk], TIDS, expected, "src key")
    assert _layout(pieces) == [(2, 0, 10, 6), (2, 9, 16, 3)]


def test_a_train_the_detector_lacks_does_not_split():
    expected = np.array([2, 0, 2, 2, 2, 2])
    chunk = _chunk(0, [100, 101, 102], [2, 0, 2])
    assert _layout(plan_module(0, [chunk], TIDS, expected, "src key")) == [(0, 0, 0, 4)]


def test_disagreeing_entry_counts_are_refused():
    with pytest.raises(ValueError, match="src key: train 101 has 2 entries, but the detector "
                       "has 3 for it"):
        plan_module(0, [_chunk(0, [100, 101], [3, 2])], TIDS, np.full(6, 3), "src key")


def test_parts_cut_pieces_at_train_boundaries():
    piece = Piece(1, 0, _chunk(50, [100, 101, 102, 103], [2, 2, 2, 2]))
    parts = assign_parts([piece], np.array([0, 2, 6, 8]))
    assert [_layout(p) for p in parts] == [[(1, 0, 50, 2)], [(1, 2, 52, 4)], [(1, 6, 56, 2)]]
    assert _layout([restrict(piece, 2, 6)]) == [(1, 2, 52, 4)]
    assert restrict(piece, 8, 10) is None
