"""Datasets of an open file exactly as stored, for the validation checks.

The reader interprets what it reads (padding dropped, index arrays cut to
the number of trains, old ``first/last/status`` indexes converted); the
checks in :mod:`extra_catalog.validation` need the raw values to say what is
wrong. :class:`RawFileView` gives them, so the checks themselves stay free of
h5py and can run on a file the crawler has already opened
(``file_access.read_record(path, checks=...)``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import h5py
import numpy as np

from ..records import FileRecord, ProblemRecord
from .h5info import read_array

__all__ = ["RawFileView", "RecordChecks"]


class RawFileView:
    """Read whole datasets of an open HDF5 file by path.

    Parameters
    ----------
    path : str
        The file's path (for messages).
    f : h5py.File
        The file, open for reading; not closed by this object.
    """

    def __init__(self, path: str, f: h5py.File) -> None:
        self.path = path
        self._f = f

    def read(self, dataset: str) -> np.ndarray | None:
        """The content of *dataset*, None if there is no such dataset."""
        return read_array(self._f, dataset)


#: ``checks(view, record) -> problems``, run while the file is open.
RecordChecks = Callable[[RawFileView, FileRecord], Sequence[ProblemRecord]]
