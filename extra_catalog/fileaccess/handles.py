"""The one place where data files are opened: a bounded LRU of h5py files.

A run can have hundreds of files, more than a process may hold open, so
open handles are kept in a least-recently-used cache whose size comes from
the *current* soft limit on open files (this module never changes limits).
Closing is "weak": the cache drops its reference, and h5py closes the file
once no dataset or group object of it is alive any more, so data being
read is never pulled from under a reader.

Every HDF5 open of a data file in this package goes through
:func:`open_file`, which counts them; tests use :func:`hdf5_open_count` to
prove that metadata came from the catalogue and not from the files.
"""

from __future__ import annotations

import os
import stat
import threading
from collections import OrderedDict

import h5py

from ..exceptions import CorruptFileError, DataFileNotFoundError, DataFilePermissionError

__all__ = [
    "FileHandleCache",
    "default_maxfiles",
    "get_handle_cache",
    "open_file",
    "hdf5_open_count",
    "stat_file",
]

# Files kept open at most, whatever the limit says: the rest of the process
# (sockets, the catalogue, shared libraries) needs descriptors too.
_MAX_DEFAULT = 1024
_MIN_DEFAULT = 8

_open_count = 0
_count_lock = threading.Lock()


def default_maxfiles() -> int:
    """Half the current soft ``RLIMIT_NOFILE``, between 8 and 1024."""
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):
        return 128
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return _MAX_DEFAULT
    return max(_MIN_DEFAULT, min(_MAX_DEFAULT, soft // 2))


def _h5open(path: str) -> h5py.File:
    # Kept separate so tests can make the open fail in chosen ways.
    return h5py.File(path, "r")


def stat_file(path: str) -> os.stat_result:
    """``os.stat`` of a data file, failures turned into project exceptions.

    Raises
    ------
    DataFileNotFoundError, DataFilePermissionError
    CorruptFileError
        Also when *path* is not a regular file: a FIFO or device named like
        a data file would block or misbehave when opened.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise DataFileNotFoundError(path, "file does not exist") from None
    except PermissionError:
        raise DataFilePermissionError(path, "permission denied (cannot stat)") from None
    except OSError as exc:
        raise CorruptFileError(path, f"cannot stat file: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise CorruptFileError(path, "not a regular file")
    return st


def _open_hdf5(path: str, st: os.stat_result | None = None) -> h5py.File:
    """Open *path* read-only, turning every failure into a project exception.

    *st*: its ``stat_file`` when the caller has just taken it (else taken here).
    """
    global _open_count
    if st is None:
        stat_file(path)
    with _count_lock:
        _open_count += 1
    try:
        return _h5open(path)
    except FileNotFoundError:
        raise DataFileNotFoundError(path, "file does not exist") from None
    except PermissionError:
        raise DataFilePermissionError(path, "permission denied") from None
    except OSError as exc:
        raise CorruptFileError(path, f"not a readable HDF5 file ({exc})") from None


def hdf5_open_count() -> int:
    """How many times a data file has been opened with HDF5 in this process."""
    return _open_count


class FileHandleCache:
    """Thread-safe LRU cache of open, read-only h5py files.

    Parameters
    ----------
    maxfiles : int, optional
        Most files kept open; default :func:`default_maxfiles`.
    """

    def __init__(self, maxfiles: int | None = None) -> None:
        self._maxfiles = default_maxfiles() if maxfiles is None else self._check(maxfiles)
        self._files: OrderedDict[str, h5py.File] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _check(maxfiles: int) -> int:
        if int(maxfiles) < 1:
            raise ValueError(f"maxfiles must be at least 1, not {maxfiles}")
        return int(maxfiles)

    @property
    def maxfiles(self) -> int:
        """Most files kept open; lowering it closes the oldest at once."""
        return self._maxfiles

    @maxfiles.setter
    def maxfiles(self, value: int) -> None:
        self._maxfiles = self._check(value)
        with self._lock:
            self._evict()

    def open(self, path: str, st: os.stat_result | None = None) -> h5py.File:
        """The open h5py file for absolute *path*, opening it if needed.

        *st*: the file's :func:`stat_file`, if the caller has just taken it.

        Raises
        ------
        DataFileNotFoundError, DataFilePermissionError, CorruptFileError
        """
        with self._lock:
            f = self._files.get(path)
            if f is not None and f.id.valid:
                self._files.move_to_end(path)
                return f
        # Opening may be slow (cold file systems): don't hold the lock.
        new = _open_hdf5(path, st)
        with self._lock:
            f = self._files.get(path)
            if f is not None and f.id.valid:
                self._files.move_to_end(path)
                return f  # another thread won the race; ours is dropped
            self._files[path] = new
            self._evict()
            return new

    def _evict(self) -> None:
        while len(self._files) > self._maxfiles:
            self._files.popitem(last=False)

    def close(self, path: str) -> None:
        """Stop keeping *path* open (weakly: live objects keep it open)."""
        with self._lock:
            self._files.pop(path, None)

    def close_all(self) -> None:
        """Drop every cached handle."""
        with self._lock:
            self._files.clear()

    def n_open(self) -> int:
        """Number of files the cache currently keeps open."""
        with self._lock:
            return len(self._files)

    def is_open(self, path: str) -> bool:
        """Whether the cache currently holds *path*."""
        with self._lock:
            return path in self._files


_cache = FileHandleCache()


def get_handle_cache() -> FileHandleCache:
    """The process-wide handle cache used by FileAccess."""
    return _cache


def open_file(path: str) -> h5py.File:
    """Open (or reuse) a data file through the process-wide cache."""
    return _cache.open(path)
