"""Which trains of a file are valid (not suspect): pure numpy.

Format 1.0+ files say it in ``INDEX/flag`` (1.1 with the meaning inverted);
0.5 files have no flag, so the suspect trains are guessed as the fewest
train IDs to drop so that the remaining ones strictly increase.
"""

from __future__ import annotations

from bisect import bisect_left

import numpy as np

from .format import flag_is_inverted

__all__ = ["flags_from_index", "guess_validity", "longest_increasing_mask"]


def flags_from_index(flag: np.ndarray, format_version: str, n_trains: int) -> np.ndarray:
    """Validity (uint8, 1 = good) from the stored ``INDEX/flag`` values.

    Parameters
    ----------
    flag : ndarray
        ``INDEX/flag`` as stored.
    format_version : str
        Format 1.1 stores the index of the source that gave the train ID,
        0 for the time server, so there 0 means good.
    n_trains : int
        Number of train IDs; the result is cut or padded (with "good") to
        this length, since a mismatch is a file problem reported elsewhere.
    """
    flag = np.asarray(flag)[:n_trains]
    good = (flag == 0) if flag_is_inverted(format_version) else (flag != 0)
    out = np.ones(n_trains, dtype=np.uint8)
    out[: len(good)] = good
    return out


def guess_validity(train_ids: np.ndarray) -> np.ndarray:
    """Validity guessed for a format 0.5 file (uint8, 1 = good).

    Keeps a longest strictly increasing subsequence of the train IDs and
    marks the others suspect, so the fewest IDs are dropped.
    """
    return longest_increasing_mask(train_ids).astype(np.uint8)


def longest_increasing_mask(values: np.ndarray) -> np.ndarray:
    """Boolean mask of a longest strictly increasing subsequence.

    O(n log n) patience sorting. When several subsequences are equally
    long, the one kept depends only on the values (ending at the last
    element that completes a longest one), so the guess is reproducible.

    Parameters
    ----------
    values : ndarray
        1-D integer array (uint64 values above 2**63 are handled exactly).
    """
    values = np.asarray(values)
    n = len(values)
    if n == 0 or bool(np.all(values[1:] > values[:-1])):
        return np.ones(n, dtype=bool)
    seq = values.tolist()  # Python ints: exact comparisons for any uint64
    tails: list[int] = []  # smallest tail value of an increasing run per length
    tail_pos: list[int] = []  # position of that tail
    prev = [-1] * n  # predecessor of each element in its best run
    for i, v in enumerate(seq):
        k = bisect_left(tails, v)
        if k == len(tails):
            tails.append(v)
            tail_pos.append(i)
        else:
            tails[k] = v
            tail_pos[k] = i
        prev[i] = tail_pos[k - 1] if k else -1
    mask = np.zeros(n, dtype=bool)
    i = tail_pos[-1]
    while i >= 0:
        mask[i] = True
        i = prev[i]
    return mask
