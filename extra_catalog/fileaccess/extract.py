"""Read one open EuXFEL HDF5 file into a :class:`~extra_catalog.records.FileRecord`.

Everything the catalogue and the reader need to know about a file without
opening it again is gathered here in one pass: format version, train IDs
and their validity, METADATA scalars, sources with their index arrays, keys
and RUN values. Oddities of real files are recorded as ProblemRecords
instead of raising; only a file that is not EuXFEL data at all raises
:class:`~extra_catalog.exceptions.FileStructureError`.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, replace

import h5py
import numpy as np

from ..exceptions import FileStructureError
from ..records import FileRecord, ProblemRecord, Scalar, SourceRecord
from .codec import encode_array
from .format import (AUX_SECTIONS, SourceEntry, normalise_version, parse_source_list,
                     source_list_path)
from .h5info import is_skip, read_array, to_scalar
from .sources import SourceReader
from .validity import flags_from_index, guess_validity

__all__ = ["FileBasics", "read_basics", "read_source", "extract_record", "read_train_ids"]


@dataclass(frozen=True)
class FileBasics:
    """The cheap part of a file's record, read when a FileAccess is made.

    Attributes
    ----------
    record : FileRecord
        Everything but the sources (``sources == ()``).
    sources : dict
        Source name -> (section, index groups) from the source lists, legacy
        names excluded.
    n_trains : int
        Number of train IDs (padding dropped).
    n_raw : int
        Length of ``INDEX/trainId`` as stored (padding included).
    """

    record: FileRecord
    sources: dict[str, tuple[str, tuple[str, ...]]]
    n_trains: int
    n_raw: int


def read_basics(path: str, f: h5py.File, st: os.stat_result) -> FileBasics:
    """Read format version, train IDs, validity, METADATA and the source list.

    Raises
    ------
    FileStructureError
        If the file lacks ``INDEX/trainId`` or the METADATA source list.
    """
    problems: list[ProblemRecord] = []
    version = normalise_version(read_array(f, "METADATA/dataFormatVersion"))
    entries = _read_source_entries(path, f, version)
    raw_tids = _read_raw_train_ids(path, f)
    train_ids = read_train_ids(raw_tids)
    n = len(train_ids)
    _check_train_ids(train_ids, problems)
    validity = _validity(f, version, train_ids, len(raw_tids), problems)
    timestamps = read_array(f, "INDEX/timestamp")
    ts_bytes = None
    if timestamps is not None:
        ts_bytes = encode_array(_fit(np.asarray(timestamps, dtype=np.uint64), n))

    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for e in entries:
        grouped[(e.section, e.source)].append(e.group)
    legacy = _find_legacy(f, grouped)
    record = FileRecord(
        path=path,
        size=int(st.st_size),
        mtime=float(st.st_mtime),
        inode=int(st.st_ino),
        format_version=version,
        train_ids=encode_array(train_ids),
        validity=encode_array(validity),
        timestamps=ts_bytes,
        metadata=_read_metadata(f, version),
        legacy_sources=tuple(sorted(legacy.items())),
        problems=tuple(problems),
    )
    sources = {
        name: (section, tuple(dict.fromkeys(groups)))
        for (section, name), groups in grouped.items()
        if name not in legacy
    }
    return FileBasics(record, sources, n, len(raw_tids))


def read_source(
    f: h5py.File, basics: FileBasics, name: str
) -> tuple[SourceRecord, tuple[ProblemRecord, ...]]:
    """Read one source (index arrays, keys, RUN values) and its problems."""
    problems: list[ProblemRecord] = []
    section, groups = basics.sources[name]
    reader = SourceReader(f, basics.n_trains, basics.n_raw, problems)
    return reader.read_source(section, name, list(groups)), tuple(problems)


def extract_record(path: str, f: h5py.File, st: os.stat_result) -> FileRecord:
    """Build the complete FileRecord of the open file *f* found at *path*.

    Parameters
    ----------
    path : str
        Absolute path of the file (stored in the record).
    f : h5py.File
        The file, open for reading.
    st : os.stat_result
        ``os.stat`` of the file, taken before reading it.

    Raises
    ------
    FileStructureError
        If the file lacks ``INDEX/trainId`` or the METADATA source list.
    """
    basics = read_basics(path, f, st)
    sources = []
    problems = list(basics.record.problems)
    for name in basics.sources:
        rec, probs = read_source(f, basics, name)
        sources.append(rec)
        problems += probs
    return replace(basics.record, sources=tuple(sources), problems=tuple(problems))


def _read_source_entries(path: str, f: h5py.File, version: str) -> list[SourceEntry]:
    main = source_list_path(version)
    other = source_list_path("1.0" if version == "0.5" else "0.5")
    raw = read_array(f, main)
    if raw is None:
        raw = read_array(f, other)  # tolerate a version/layout mismatch
    if raw is None:
        raise FileStructureError(
            f"{path}: not an EuXFEL data file: no METADATA source list ({main})"
        )
    entries = parse_source_list(np.atleast_1d(raw).tolist(), path)
    aux = f.get("METADATA/auxiliarySources")
    if isinstance(aux, h5py.Group):
        entries += _aux_entries(path, aux)
    return entries


def _aux_entries(path: str, aux: h5py.Group) -> list[SourceEntry]:
    # Each member lists '<SECTION>/<source>/<group>' entries, either as a
    # dataset named after the section or as datasets in a group of that name.
    out: list[SourceEntry] = []
    for name, obj in aux.items():
        datasets = [obj] if isinstance(obj, h5py.Dataset) else list(obj.values())
        for dset in datasets:
            if not isinstance(dset, h5py.Dataset):
                continue
            values = []
            for v in np.atleast_1d(dset[()]).tolist():
                text = v.decode("utf-8", "surrogateescape") if isinstance(v, bytes) else str(v)
                if text and name in AUX_SECTIONS and not text.startswith(name + "/"):
                    text = f"{name}/{text}"
                values.append(text)
            out += parse_source_list(values, path)
    return out


def _read_raw_train_ids(path: str, f: h5py.File) -> np.ndarray:
    tids = read_array(f, "INDEX/trainId")
    if tids is None:
        raise FileStructureError(f"{path}: not an EuXFEL data file: no INDEX/trainId dataset")
    return np.atleast_1d(np.asarray(tids)).astype(np.uint64, copy=False)


def read_train_ids(raw: np.ndarray) -> np.ndarray:
    """Train IDs with the trailing zero padding dropped (uint64)."""
    raw = np.asarray(raw, dtype=np.uint64)
    nonzero = np.flatnonzero(raw)
    return raw[: nonzero[-1] + 1] if len(nonzero) else raw[:0]


def _check_train_ids(train_ids: np.ndarray, problems: list[ProblemRecord]) -> None:
    bad = np.flatnonzero(train_ids[1:] <= train_ids[:-1])
    if len(bad):
        i = int(bad[0]) + 1
        problems.append(ProblemRecord(
            "train_ids_order",
            f"train IDs not strictly increasing: {int(train_ids[i - 1])} then "
            f"{int(train_ids[i])} at index {i} ({len(bad)} place(s))",
            train_id=int(train_ids[i]),
        ))
    zeros = np.flatnonzero(train_ids == 0)
    if len(zeros):
        problems.append(ProblemRecord(
            "train_ids_zero", f"{len(zeros)} zero train ID(s) before the last train, "
            f"first at index {int(zeros[0])}",
        ))


def _validity(
    f: h5py.File, version: str, train_ids: np.ndarray, n_raw: int, problems: list[ProblemRecord]
) -> np.ndarray:
    n = len(train_ids)
    flag = read_array(f, "INDEX/flag") if version != "0.5" else None
    if flag is None:
        return guess_validity(train_ids)
    flag = np.atleast_1d(flag)
    if len(flag) != n_raw:
        problems.append(ProblemRecord(
            "index_flag_length",
            f"INDEX/flag has {len(flag)} entries but INDEX/trainId has {n_raw}",
            dataset="INDEX/flag",
        ))
    return flags_from_index(flag, version, n)


def _fit(arr: np.ndarray, n: int) -> np.ndarray:
    """Cut or zero-pad a per-train array to *n* entries."""
    if len(arr) >= n:
        return arr[:n]
    return np.concatenate([arr, np.zeros(n - len(arr), dtype=arr.dtype)])


def _find_legacy(f: h5py.File, grouped: dict[tuple[str, str], list[str]]) -> dict[str, str]:
    """Legacy name -> canonical name, for sources whose group is a soft link."""
    legacy: dict[str, str] = {}
    for section, name in grouped:
        if section == "CONTROL":
            continue
        try:
            link = f.get(f"{section}/{name}", getlink=True)
        except (KeyError, ValueError, OSError):
            continue  # an intermediate group is missing: no link to follow
        if isinstance(link, h5py.SoftLink):
            prefix = f"/{section}/"
            target = link.path
            legacy[name] = target[len(prefix):] if target.startswith(prefix) else target
    return legacy


def _read_metadata(f: h5py.File, version: str) -> tuple[tuple[str, Scalar], ...]:
    if version == "0.5":
        return (("dataFormatVersion", "0.5"),)
    meta = f.get("METADATA")
    out: list[tuple[str, Scalar]] = []
    if not isinstance(meta, h5py.Group):
        return (("dataFormatVersion", version),)
    for key in meta:
        obj = meta.get(key)
        if not isinstance(obj, h5py.Dataset) or obj.size != 1:
            continue
        value = to_scalar(obj[()])
        if not is_skip(value):
            out.append((key, value))  # type: ignore[arg-type]
    return tuple(sorted(out))
