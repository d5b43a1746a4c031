"""Datasets of an open file exactly as stored, for the validation checks.

The reader interprets what it reads (padding dropped, index arrays cut to
the number of trains, old ``first/last/status`` indexes converted); the
checks in :mod:`extra_catalog.validation` need the raw values to say what is
wrong. :class:`RawFileView` gives them, so the checks themselves stay free of
h5py and can run on a file the crawler has already opened.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace

import h5py
import numpy as np

from ..records import FileRecord, ProblemRecord
from . import handles
from .h5info import read_array

__all__ = ["RawFileView", "RecordChecks", "read_checked_record"]


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

    def shape(self, dataset: str) -> tuple[int, ...] | None:
        """The shape of *dataset* without reading it, None if absent."""
        try:
            obj = self._f.get(dataset)
        except (KeyError, ValueError, OSError, RuntimeError):
            return None
        return tuple(obj.shape) if isinstance(obj, h5py.Dataset) else None


#: ``checks(view, record) -> problems``, run while the file is open.
RecordChecks = Callable[[RawFileView, FileRecord], Sequence[ProblemRecord]]


def read_checked_record(filename: str | os.PathLike, checks: RecordChecks) -> FileRecord:
    """Read a file's record afresh and check it while the file is open.

    As :func:`~.file_access.read_record`, but ``checks(view, record)`` is
    called before the file is closed, and the problems it returns replace
    the reader's notes in ``record.problems``. The crawler passes the
    validation checks here, so each file is opened once.

    Raises
    ------
    DataFileNotFoundError, DataFilePermissionError, CorruptFileError
    FileStructureError
    """
    from .file_access import _read_basics, _read_source

    path = os.path.abspath(os.fspath(filename))
    cache = handles.get_handle_cache()
    cache.close(path)  # a handle opened before a change may be stale
    try:
        basics, _st, _voview = _read_basics(path)
        f = handles.open_file(path)
        sources, notes = [], list(basics.record.problems)
        for name in basics.sources:
            source, source_notes = _read_source(path, f, basics, name)
            sources.append(source)
            notes += source_notes
        record = replace(basics.record, sources=tuple(sources), problems=tuple(notes))
        return replace(record, problems=tuple(checks(RawFileView(path, f), record)))
    finally:
        cache.close(path)
