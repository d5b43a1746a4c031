"""The train range of a run, from its files' records."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..fileaccess.codec import decode_array
from ..records import FileRecord

__all__ = ["train_range"]


def train_range(records: Sequence[FileRecord]) -> tuple[int | None, int | None, int]:
    """First and last good train ID and the number of distinct good trains.

    Suspect trains (validity 0) are left out, as EXtra-data leaves them out
    of ``train_ids`` with ``inc_suspect_trains=False``.
    """
    good = [decode_array(r.train_ids)[decode_array(r.validity).astype(bool)]
            for r in records]
    if not good:
        return None, None, 0
    ids = np.unique(np.concatenate(good).astype(np.uint64))
    if ids.size == 0:
        return None, None, 0
    return int(ids[0]), int(ids[-1]), int(ids.size)
