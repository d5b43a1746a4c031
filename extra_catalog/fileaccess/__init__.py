"""File access: one EuXFEL HDF5 file, from the file itself or from a record.

The only code besides the reader that imports h5py. Public names:

- :class:`FileAccess` and :class:`KeyInfo` (per-key facts for the reader);
- :func:`read_record` (a fresh record of a file, for the crawler);
- :class:`DatasetProxy` (lazy dataset handle);
- :func:`open_file`, :func:`hdf5_open_count`, :func:`get_handle_cache`
  (the bounded cache of open files).

Sub-modules with pure rules reused by the crawler: :mod:`.format`,
:mod:`.paths`, :mod:`.validity`, :mod:`.codec`.
"""

from __future__ import annotations

from .file_access import FileAccess, KeyInfo, read_record
from .handles import FileHandleCache, get_handle_cache, hdf5_open_count, open_file
from .proxy import DatasetProxy

__all__ = [
    "FileAccess",
    "KeyInfo",
    "read_record",
    "DatasetProxy",
    "FileHandleCache",
    "get_handle_cache",
    "hdf5_open_count",
    "open_file",
]
