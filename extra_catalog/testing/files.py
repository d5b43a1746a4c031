"""Write one EuXFEL HDF5 file: METADATA, INDEX and the devices' data."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import h5py
import numpy as np

from . import faults as _faults
from ._common import (MockDataError, check_format_version, karabo_date, train_timestamps_ns,
                      version_at_least)
from ._h5 import write_dataset
from .context import IndexGroup, WriteContext
from .devices import Device, device_from_dict

__all__ = ["write_file", "read_recipe", "RECIPE_ATTR", "TIMESERVER_ENTRY",
           "DAQ_LIBRARY", "KARABO_FRAMEWORK"]

#: Root attribute holding the generator's recipe (JSON), used by grow_file().
RECIPE_ATTR = "extra_catalog_mock_recipe"
#: The virtual time-server entry of format 1.1 source lists (readers must ignore it).
TIMESERVER_ENTRY = "Karabo_TimerServer/Karabo_TimeServer"
DAQ_LIBRARY = "1.10.0"
KARABO_FRAMEWORK = "2.19.0"


def write_file(path: str | os.PathLike, devices: Sequence[Device], *, n_trains: int = 10,
               first_train_id: int = 10000, train_ids: Sequence[int] | np.ndarray | None = None,
               format_version: str = "1.3", legacy_names: dict[str, str] | None = None,
               faults: Iterable[str] = (), seed: int = 0, proposal: int = 900001, run: int = 1,
               sequence: int = 0, old_index: bool = False, run_type: str = "", sample: str = "",
               pad_train_ids: int = 0, creation_date: str | None = None,
               suspect_train_ids: Sequence[int] = (),
               run_first_train_id: int | None = None) -> Path:
    """Write one EuXFEL data file.

    Parameters
    ----------
    path : path-like
        File to create (parent directories are created).
    devices : sequence of Device
        What the file holds (:class:`XGM`, :class:`Motor`, :class:`XTDFModule`...).
    n_trains, first_train_id : int
        Consecutive train IDs ``first_train_id + arange(n_trains)``...
    train_ids : array of int, optional
        ...unless explicit train IDs are given.
    format_version : str
        One of :data:`FORMAT_VERSIONS`.
    legacy_names : dict, optional
        ``{legacy_source: canonical_source}``: soft links
        ``<SECTION>/<legacy>`` -> ``/<SECTION>/<canonical>`` and
        ``INDEX/<legacy>`` -> ``/INDEX/<canonical>``, plus legacy entries in
        the source list.
    faults : iterable of str
        File-level faults from :data:`FAULTS`.
    seed : int
        Seed of the value formulas (see each device's docstring).
    proposal, run, sequence : int
        METADATA numbers (format >= 1.0).
    old_index : bool
        Write ``first/last/status`` instead of ``first/count``.
    run_type, sample : str
        METADATA ``runType`` / ``sample`` (format >= 1.0).
    pad_train_ids : int
        Trailing zeros in INDEX/trainId and zero rows in every per-train array.
    creation_date : str, optional
        ``YYYYMMDDTHHMMSSZ``; default: the time of the file's first train.
        ``updateDate`` is the time of its last train.
    suspect_train_ids : sequence of int
        Trains flagged suspect in INDEX/flag (format >= 1.0; 1.1 stores the
        inverted meaning: 0 = good, 1 = suspect).
    run_first_train_id : int, optional
        First train of the run (RUN values are taken there); default: the
        file's first train.

    Returns
    -------
    Path
        The path written.
    """
    path = Path(path)
    check_format_version(format_version)
    faults = _faults.check_faults(faults, _faults.FILE_FAULTS, f"write_file({path})")
    tids = _train_ids(n_trains, first_train_id, train_ids)
    if suspect_train_ids and format_version == "0.5":
        raise MockDataError(f"{path}: format 0.5 has no INDEX/flag, so suspect_train_ids cannot "
                            "be stored; make train IDs non-increasing instead")
    _check_sources(path, devices, legacy_names or {})
    recipe = dict(devices=[d.to_dict() for d in devices], train_ids=[int(t) for t in tids],
                  format_version=format_version, legacy_names=dict(legacy_names or {}),
                  faults=list(faults), seed=seed, proposal=proposal, run=run, sequence=sequence,
                  old_index=old_index, run_type=run_type, sample=sample,
                  pad_train_ids=pad_train_ids, creation_date=creation_date,
                  suspect_train_ids=[int(t) for t in suspect_train_ids],
                  run_first_train_id=run_first_train_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    if _faults.write_broken_file(faults, path, seed):
        return path
    file_tids = _faults.adjust_train_ids(faults, tids)
    run_start = int(tids[0]) if run_first_train_id is None and len(tids) else (
        run_first_train_id if run_first_train_id is not None else first_train_id)
    with h5py.File(path, "w") as f:
        ctx = WriteContext(f, file_tids, seed=seed, run_first_train_id=run_start,
                           format_version=format_version)
        for name in ("METADATA", "INDEX", "CONTROL", "RUN", "INSTRUMENT"):
            f.create_group(name)
        for device in devices:
            device.write(ctx)
        _faults.apply_index_faults(faults, ctx)
        _write_index(f, ctx, faults, pad_train_ids, old_index,
                     np.asarray(suspect_train_ids, dtype=np.uint64))
        legacy_ids = _write_legacy_links(f, ctx, legacy_names or {})
        if "no_source_list" not in faults:
            _write_source_list(f, ctx.data_source_ids + legacy_ids, format_version)
        if version_at_least(format_version, "1.0"):
            _write_metadata_scalars(f, format_version, file_tids, run_start, creation_date,
                                    proposal=proposal, run=run, sequence=sequence,
                                    run_type=run_type, sample=sample)
        _write_aux_list(f, ctx)
        _faults.apply_open_file_faults(faults, f, ctx)
        f.attrs[RECIPE_ATTR] = json.dumps(recipe)
    _faults.apply_disk_faults(faults, path)
    return path


def read_recipe(path: str | os.PathLike) -> dict[str, Any]:
    """The ``write_file`` arguments stored in a generated file (devices rebuilt)."""
    with h5py.File(path, "r") as f:
        try:
            recipe = json.loads(f.attrs[RECIPE_ATTR])
        except KeyError:
            raise MockDataError(f"{path}: not written by extra_catalog.testing "
                                f"(no {RECIPE_ATTR} attribute)") from None
    recipe["devices"] = [device_from_dict(d) for d in recipe["devices"]]
    return recipe


def _train_ids(n_trains: int, first: int, train_ids: Sequence[int] | np.ndarray | None
               ) -> np.ndarray:
    if train_ids is not None:
        return np.asarray(train_ids, dtype=np.uint64).ravel()
    if n_trains < 0:
        raise MockDataError(f"n_trains must be >= 0, not {n_trains}")
    return np.arange(first, first + n_trains, dtype=np.uint64)


def _check_sources(path: Path, devices: Sequence[Device], legacy: dict[str, str]) -> None:
    seen: set[str] = set()
    for device in devices:
        for name in device.source_names():
            if name in seen:
                raise MockDataError(f"{path}: source {name!r} is written twice")
            seen.add(name)
    for old, new in legacy.items():
        if new not in seen:
            raise MockDataError(f"{path}: legacy name {old!r} points to {new!r}, "
                                "which no device writes")
        if old in seen:
            raise MockDataError(f"{path}: legacy name {old!r} is also a real source")


def _flags(format_version: str, tids: np.ndarray, suspect: np.ndarray) -> np.ndarray:
    bad = np.isin(tids, suspect)
    if format_version == "1.1":
        # 1.1 stores the index of the source that gave the train ID; the
        # time server is index 0, so good trains are 0 and suspect ones > 0.
        return bad.astype(np.int32)
    return (~bad).astype(np.int32)


def _padded(arr: np.ndarray, length: int) -> np.ndarray:
    out = np.zeros(length, dtype=arr.dtype)
    k = min(length, len(arr))
    out[:k] = arr[:k]
    return out


def _write_index(f: h5py.File, ctx: WriteContext, faults: tuple[str, ...], pad: int,
                 old_index: bool, suspect: np.ndarray) -> None:
    tids = ctx.train_ids
    n_all = len(tids) + pad
    write_dataset(f, "INDEX/trainId", _padded(tids, n_all))
    if ctx.format_version != "0.5":
        write_dataset(f, "INDEX/flag", _padded(_flags(ctx.format_version, tids, suspect), n_all))
        write_dataset(f, "INDEX/timestamp", _padded(train_timestamps_ns(tids), n_all))
    if version_at_least(ctx.format_version, "1.2"):
        origin = np.where(np.isin(tids, suspect), 0, -1).astype(np.int32)
        write_dataset(f, "INDEX/origin", _padded(origin, n_all))
    length = _faults.index_length(faults, len(tids), pad)
    for group in ctx.index_groups:
        _write_index_group(f, group, length, old_index)


def _write_index_group(f: h5py.File, g: IndexGroup, length: int, old_index: bool) -> None:
    first, count = _padded(g.first, length), _padded(g.count, length)
    if not old_index:
        write_dataset(f, f"{g.index_path}/first", first)
        write_dataset(f, f"{g.index_path}/count", count)
        return
    # count = (last - first + 1) * status; empty trains get last = first, status 0.
    last = first + np.maximum(count, np.uint64(1)) - np.uint64(1)
    write_dataset(f, f"{g.index_path}/first", first)
    write_dataset(f, f"{g.index_path}/last", last)
    write_dataset(f, f"{g.index_path}/status", (count > 0).astype(np.uint32))


def _write_legacy_links(f: h5py.File, ctx: WriteContext, legacy: dict[str, str]) -> list[str]:
    entries = []
    for old, new in legacy.items():
        groups = [g for g in ctx.index_groups if g.source == new]
        section = groups[0].section
        for link, target in ((f"{section}/{old}", f"/{section}/{new}"),
                             (f"INDEX/{old}", f"/INDEX/{new}")):
            parent = link.rsplit("/", 1)[0]
            f.require_group(parent)
            f[link] = h5py.SoftLink(target)
        if section == "CONTROL":
            entries.append(f"CONTROL/{old}")
        else:
            entries += [f"{section}/{old}/{g.group}" for g in groups]
    return entries


def _strings(values: list[str], pad_to: int = 16) -> np.ndarray:
    # Real source lists are padded with empty strings up to a chunk boundary.
    n = (len(values) // pad_to + 1) * pad_to
    return np.array(values + [""] * (n - len(values)), dtype=object)


def _write_source_list(f: h5py.File, entries: list[str], format_version: str) -> None:
    if format_version == "1.1":
        entries = [TIMESERVER_ENTRY] + entries
    roots = ["" if e == TIMESERVER_ENTRY else e.split("/", 1)[0] for e in entries]
    device_ids = [e.split("/", 1)[1] for e in entries]
    base = "METADATA" if format_version == "0.5" else "METADATA/dataSources"
    write_dataset(f, f"{base}/dataSourceId", _strings(entries))
    write_dataset(f, f"{base}/root", _strings(roots))
    write_dataset(f, f"{base}/deviceId", _strings(device_ids))


def _write_aux_list(f: h5py.File, ctx: WriteContext) -> None:
    for section, entries in ctx.aux_source_ids.items():
        write_dataset(f, f"METADATA/auxiliarySources/{section}", np.array(entries, dtype=object))


def _write_metadata_scalars(f: h5py.File, format_version: str, tids: np.ndarray, run_start: int,
                            creation_date: str | None, **numbers: Any) -> None:
    real = tids[tids != 0]
    times = train_timestamps_ns(real if len(real) else np.array([run_start], dtype=np.uint64))
    created = creation_date or karabo_date(int(times.min()))
    updated = karabo_date(int(times.max())) if creation_date is None else creation_date
    text = {"dataFormatVersion": format_version, "creationDate": created, "updateDate": updated,
            "daqLibrary": DAQ_LIBRARY, "karaboFramework": KARABO_FRAMEWORK,
            "runType": numbers["run_type"], "sample": numbers["sample"]}
    for key, value in text.items():
        f[f"METADATA/{key}"] = np.array([value.encode("ascii")])
    for key, name in (("proposalNumber", "proposal"), ("runNumber", "run"),
                      ("sequenceNumber", "sequence")):
        f[f"METADATA/{key}"] = np.array([numbers[name]], dtype=np.uint32)
