"""Which trains of a file are valid (not suspect): pure numpy.

Format 1.0+ files say it in ``INDEX/flag`` (1.1 with the meaning inverted);
0.5 files have no flag, so the suspect trains are guessed from where the
train IDs go down, with EXtra-data's rule.
"""

from __future__ import annotations

import numpy as np

from .format import flag_is_inverted

__all__ = ["flags_from_index", "guess_validity"]


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
    """Validity guessed for a format 0.5 file (uint8, 1 = good), as EXtra-data guesses it.

    At each place where the train IDs go down, the IDs on one side that
    conflict with the other side are marked suspect: those before that are
    not below the first ID after, or those after that are not above the last
    ID before, whichever are fewer (the later ones on a tie). A bogus huge ID
    or a swapped pair thus loses one train. This need not drop the fewest
    trains in contrived cases; it is what EXtra-data does, so both agree.
    """
    tids = np.asarray(train_ids, dtype=np.uint64)
    good = np.ones(len(tids), dtype=bool)
    for i in np.flatnonzero(tids[1:] <= tids[:-1]):
        before = tids[: i + 1] >= tids[i + 1]
        after = tids[i + 1:] <= tids[i]
        if np.count_nonzero(before) < np.count_nonzero(after):
            good[: i + 1] &= ~before
        else:
            good[i + 1:] &= ~after
    return good.astype(np.uint8)
