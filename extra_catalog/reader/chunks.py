"""Where the data of one key lives: contiguous per-file chunks of selected trains.

The reader never reads more than a selection needs. For one source, index
group and set of selected train IDs, :func:`find_chunks` lists, file by file,
runs of selected trains whose entries sit next to each other in the dataset,
so each chunk is read with one contiguous slice. Everything here works from
the INDEX arrays a :class:`~extra_catalog.fileaccess.FileAccess` holds (from
the catalogue or the file), so finding chunks opens no file; only
:func:`read_chunks` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import h5py

from ..exceptions import CorruptFileError, ExtraCatalogError
from ..fileaccess import FileAccess
from ..fileaccess.file_access import prefetch_details
from ..fileaccess.handles import get_handle_cache, stat_file

__all__ = ["DataChunk", "find_chunks", "read_chunks", "read_rows", "open_checked", "find_train",
           "trains_files_index", "same_run", "roi_shape"]


@dataclass(frozen=True)
class DataChunk:
    """Consecutive selected trains of one file whose entries are contiguous.

    Attributes
    ----------
    file : FileAccess
    dataset_path : str
        Path of the key's dataset in the file.
    first : int
        Row of the first entry of the chunk.
    train_ids, counts : numpy.ndarray
        Train IDs (uint64) and entries per train (uint64), in file order.
        Trains without entries may be included.
    """

    file: FileAccess
    dataset_path: str
    first: int
    train_ids: np.ndarray
    counts: np.ndarray

    @property
    def total_count(self) -> int:
        """Entries in the chunk."""
        return int(self.counts.sum(dtype=np.uint64))

    @property
    def slice(self) -> slice:
        """Rows of the dataset holding the chunk."""
        return slice(self.first, self.first + self.total_count)


def _file_mask(fa: FileAccess, tids: np.ndarray, inc_suspect: bool) -> np.ndarray:
    """Which trains of *fa* are selected (and valid unless *inc_suspect*)."""
    include = np.isin(fa.train_ids, tids)
    if not inc_suspect:
        include &= fa.validity_flag
    return include


def _regions(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` of each run of True in a boolean array."""
    if not mask.any():
        return []
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def find_chunks(files: Sequence[FileAccess], source: str, index_group: str, key: str,
                train_ids: np.ndarray, inc_suspect: bool) -> list[DataChunk]:
    """Contiguous chunks of *source*/*key* data for the selected trains.

    Parameters
    ----------
    files : sequence of FileAccess
        Files holding the source.
    source, index_group, key : str
    train_ids : numpy.ndarray of uint64
        Selected train IDs.
    inc_suspect : bool
        Whether trains flagged suspect in a file are read from it.

    Returns
    -------
    list of DataChunk
        Sorted by their first train ID. A run of selected trains is split
        where the INDEX points to rows that do not follow the previous
        train's (gaps or overlaps in real data), so every chunk is one slice.
    """
    chunks: list[DataChunk] = []
    if len(files) > 1:
        prefetch_details(files, source)
    for fa in files:
        n = len(fa.train_ids)
        if n == 0:
            continue
        firsts, counts = fa.get_index(source, index_group)
        n = min(n, len(firsts), len(counts))
        mask = _file_mask(fa, train_ids, inc_suspect)[:n]
        path = fa.dataset_path(source, key)
        for start, stop in _regions(mask):
            chunks.extend(_split_region(fa, path, fa.train_ids, firsts, counts, start, stop))
    chunks.sort(key=lambda c: int(c.train_ids[0]))
    return chunks


def _split_region(fa: FileAccess, path: str, tids: np.ndarray, firsts: np.ndarray,
                  counts: np.ndarray, start: int, stop: int) -> list[DataChunk]:
    nz = start + np.flatnonzero(counts[start:stop])
    ends = firsts[nz[:-1]].astype(np.int64) + counts[nz[:-1]].astype(np.int64)
    breaks = nz[1:][firsts[nz[1:]].astype(np.int64) != ends].tolist()
    bounds = [start] + breaks + [stop]
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        with_data = np.flatnonzero(counts[a:b])
        first = int(firsts[a + with_data[0]]) if with_data.size else 0
        out.append(DataChunk(fa, path, first, tids[a:b], counts[a:b]))
    return out


def roi_shape(entry_shape: tuple[int, ...], roi: tuple[Any, ...]) -> tuple[int, ...]:
    """Shape of one entry after indexing it with *roi*."""
    dummy = np.empty((0,) + tuple(entry_shape), dtype=np.uint8)
    return dummy[(slice(None),) + roi].shape[1:]


def open_checked(fa: FileAccess) -> h5py.File:
    """The open file of *fa*, refusing one that changed on disk since *fa* was made.

    The INDEX offsets come from *fa* (the catalogue or an earlier read): a
    file replaced or rewritten since then would be read at the wrong rows.
    So when the file has to be opened again and its size, mtime or inode
    are not those *fa* describes, its ``INDEX/trainId`` must still start
    with *fa*'s train IDs (a file still being written only grows). A file
    the cache holds open was checked when opened: replacing the path does
    not change an open handle.

    Raises
    ------
    CorruptFileError
        The file changed; DataFileNotFoundError and others from opening.
    """
    if get_handle_cache().is_open(fa.filename):
        return fa.file
    st = stat_file(fa.filename)
    known = fa.metadata_fstat
    same = ((st.st_size, st.st_mtime) == (known.st_size, known.st_mtime)
            and (not known.st_ino or st.st_ino == known.st_ino))
    f = get_handle_cache().open(fa.filename, st)  # (fa.file, without a second stat)
    if not same and not _same_trains(f, fa):
        fa.close()
        raise CorruptFileError(fa.filename, "file replaced or rewritten since its metadata was "
                               "read (its train IDs differ); open the run again")
    return f


def _same_trains(f: h5py.File, fa: FileAccess) -> bool:
    known = np.asarray(fa.train_ids, dtype=np.uint64)
    try:
        stored = f["INDEX/trainId"][:len(known)]
    except (OSError, KeyError, RuntimeError, ValueError):
        return False
    return np.array_equal(np.asarray(stored, dtype=np.uint64), known)


def read_rows(fa: FileAccess, dataset_path: str, first: int, count: int,
              single: bool = False, ds: h5py.Dataset | None = None,
              rest: tuple[Any, ...] = ()) -> Any:
    """Rows ``[first, first + count)`` of a dataset (row *first* alone if *single*).

    *ds* may be the dataset already opened from *fa* (train iteration keeps
    them); *rest* indexes each row. Rows past the end of the dataset mean the INDEX is wrong: that is
    an error, never a shorter result.

    Raises
    ------
    CorruptFileError
        Naming the file, for every failure to read.
    """
    try:
        if ds is None:
            ds = open_checked(fa)[dataset_path]
        if first + count > ds.shape[0]:
            raise CorruptFileError(
                fa.filename, f"INDEX points to rows {first}-{first + count} of "
                f"{dataset_path}, which has only {ds.shape[0]}")
        return ds[(first,) + rest] if single else ds[(slice(first, first + count),) + rest]
    except ExtraCatalogError:
        raise
    except (OSError, KeyError, RuntimeError, ValueError) as exc:
        raise CorruptFileError(fa.filename, f"cannot read {dataset_path}: {exc}") from None


def read_chunks(chunks: Sequence[DataChunk], out: np.ndarray, roi: tuple[Any, ...]) -> None:
    """Read every non-empty chunk into consecutive rows of *out*, one read per chunk.

    Raises
    ------
    CorruptFileError
        The file cannot be read, changed since its metadata was read, or
        its dataset is shorter than its INDEX says.
    """
    cursor = 0
    for chunk in chunks:
        n = chunk.total_count
        if n == 0:
            continue
        dest = out[cursor:cursor + n]
        try:
            ds = open_checked(chunk.file)[chunk.dataset_path]
            if chunk.slice.stop > ds.shape[0]:
                raise CorruptFileError(
                    chunk.file.filename,
                    f"INDEX points to rows {chunk.slice.start}-{chunk.slice.stop} of "
                    f"{chunk.dataset_path}, which has only {ds.shape[0]}")
            sel = (chunk.slice,) + roi
            if dest.dtype.hasobject or not dest.flags.c_contiguous:
                dest[...] = ds[sel]
            else:
                ds.read_direct(dest, source_sel=sel)
        except ExtraCatalogError:
            raise
        except (OSError, KeyError, RuntimeError) as exc:
            raise CorruptFileError(chunk.file.filename,
                                   f"cannot read {chunk.dataset_path}: {exc}") from None
        cursor += n


def find_train(files: Sequence[FileAccess], tid: int,
               inc_suspect: bool) -> tuple[FileAccess | None, int]:
    """The first file holding train *tid* (valid unless *inc_suspect*) and its position."""
    for fa in files:
        matches = np.flatnonzero(fa.train_ids == np.uint64(tid))
        for ix in matches:
            if inc_suspect or fa.validity_flag[ix]:
                return fa, int(ix)
    return None, 0


def trains_files_index(train_ids: np.ndarray, files: Sequence[FileAccess],
                       inc_suspect: bool) -> list[FileAccess | None]:
    """For each selected train, the file holding it (None when none does)."""
    out: list[FileAccess | None] = [None] * len(train_ids)
    for fa in files:
        tids = fa.train_ids if inc_suspect else fa.valid_train_ids
        for pos in np.flatnonzero(np.isin(train_ids, tids)).tolist():
            if out[pos] is None:
                out[pos] = fa
    return out


def same_run(*items: Any) -> bool:
    """Whether collections (or SourceData) all hold data of one and the same run.

    Each must be a single run whose metadata names a proposal and run number
    (format 0.5 files have none, so they never count as one run), and all
    must name the same ones.
    """
    proposals, runs = set(), set()
    for item in items:
        meta = item.run_metadata() if item.is_single_run else {}
        proposals.add(meta.get("proposalNumber", -1))
        runs.add(meta.get("runNumber", -1))
    return len(proposals) == 1 and -1 not in proposals and len(runs) == 1 and -1 not in runs
