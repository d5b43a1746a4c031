"""Write run directories: data aggregators and detector modules split into sequence files."""

from __future__ import annotations

import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from . import faults as _faults
from ._common import MockDataError, check_format_version, version_at_least
from .devices import (XGM, AuxiliarySource, Camera, ControlDevice, Device, JUNGFRAUModule, Motor,
                      RunOnlyDevice, XTDFModule)
from .files import read_recipe, write_file

__all__ = ["write_run", "default_aggregators", "detector_aggregators", "DETECTORS",
           "append_sequence", "grow_file", "file_name", "DEFAULT_TRAINS_PER_SEQUENCE"]

#: detector preset -> (device name pattern, aggregator pattern, modules, first module number)
DETECTORS: dict[str, tuple[str, str, int, int]] = {
    "AGIPD1M": ("SPB_DET_AGIPD1M-1/{kind}/{m}CH0", "AGIPD{m:02d}", 16, 0),
    "LPD1M": ("FXE_DET_LPD1M-1/{kind}/{m}CH0", "LPD{m:02d}", 16, 0),
    "DSSC1M": ("SCS_DET_DSSC1M-1/{kind}/{m}CH0", "DSSC{m:02d}", 16, 0),
    "JUNGFRAU": ("SPB_IRDA_JF4M/{kind}/JNGFR{m:02d}", "JNGFR{m:02d}", 8, 1),
}

#: Trains per sequence file when write_run is not told: (data aggregators, detector modules).
DEFAULT_TRAINS_PER_SEQUENCE = (500, 100)

_NAME_RE = re.compile(r"^(RAW|CORR)-R(\d{4})-(\w+)-S(\d{5})\.h5$")


def file_name(data: str, run: int, aggregator: str, sequence: int) -> str:
    """``<CLASS>-R<run:04d>-<AGG>-S<seq:05d>.h5``, CLASS ``RAW`` or ``CORR``."""
    return f"{'RAW' if data == 'raw' else 'CORR'}-R{run:04d}-{aggregator}-S{sequence:05d}.h5"


def default_aggregators(n_aggregators: int = 2, n_control_sources: int | None = None,
                        instrument: str = "SPB", n_keys: int = 10) -> dict[str, list[Device]]:
    """A realistic set of data aggregators ``DA01``, ``DA02``...

    DA01 holds two XGMs, a side-microscope camera and a RUN-only device; DA02
    three motors; further aggregators start empty. *n_control_sources*
    adds that many :class:`ControlDevice` (with *n_keys* keys each) to every
    aggregator, named ``<instrument>_DA<k>_CTRL/DEV/D<i:03d>``.
    """
    aggs: dict[str, list[Device]] = {f"DA{k:02d}": [] for k in range(1, n_aggregators + 1)}
    base: list[list[Device]] = [
        [XGM("SA1_XTD2_XGM/DOOCS/MAIN"), XGM(f"{instrument}_XTD9_XGM/DOOCS/MAIN"),
         Camera(f"{instrument}_IRU_SIDEMIC_CAM/CAM/1", shape=(32, 40)),
         RunOnlyDevice(f"{instrument}_RR_SYS/MDL/RUN_INFO")],
        [Motor(f"{instrument}_IRU_MOTORS/MOTOR/{axis}") for axis in "XYZ"],
    ]
    for k, agg in enumerate(aggs):
        if k < len(base):
            aggs[agg].extend(base[k])
        for i in range(n_control_sources or 0):
            aggs[agg].append(ControlDevice(f"{instrument}_DA{k + 1}_CTRL/DEV/D{i:03d}",
                                           n_keys=n_keys))
    return aggs


def detector_aggregators(detector: str, *, raw: bool = True, n_modules: int | None = None,
                         frames_per_train: int = 16, frame_shape: tuple[int, int] | None = None,
                         auxiliary: bool = False) -> dict[str, list[Device]]:
    """One aggregator per module of a detector preset from :data:`DETECTORS`.

    Raw modules use ``/DET/`` device names, corrected ones ``/CORR/``. With
    *auxiliary*, every module file also holds the REDUCTION source
    ``PULSE_REDUCTION/<module source>`` (group ``image``).
    """
    try:
        pattern, agg_pattern, total, first = DETECTORS[detector]
    except KeyError:
        raise MockDataError(f"detector {detector!r} is not one of {', '.join(DETECTORS)}") from None
    n = total if n_modules is None else n_modules
    if not 0 < n <= total:
        raise MockDataError(f"{detector} has 1 to {total} modules, not {n_modules}")
    aggs: dict[str, list[Device]] = {}
    for m in range(first, first + n):
        name = pattern.format(kind="DET" if raw else "CORR", m=m)
        if detector == "JUNGFRAU":
            dev: Device = JUNGFRAUModule(name, raw=raw, frame_shape=frame_shape or (512, 1024))
        else:
            dev = XTDFModule(name, detector=detector[:-2], raw=raw,
                             frames_per_train=frames_per_train, frame_shape=frame_shape)
        devices = [dev]
        if auxiliary:
            devices.append(AuxiliarySource(f"PULSE_REDUCTION/{dev.source}", group="image"))
        aggs[agg_pattern.format(m=m)] = devices
    return aggs


@dataclass
class _FileTask:
    """Everything needed to write one sequence file (picklable)."""

    path: Path
    devices: list[Device]
    train_ids: np.ndarray
    sequence: int
    faults: tuple[str, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


def _write_task(task: _FileTask) -> Path:
    return write_file(task.path, task.devices, train_ids=task.train_ids, sequence=task.sequence,
                      faults=task.faults, **task.kwargs)


def _sequence_splits(n: int, tps: int, k: int) -> list[int]:
    """Start positions of sequences; aggregator k breaks (7k % (tps // 4)) trains early."""
    shift = (7 * k) % max(tps // 4, 1)
    starts = [0] + [b for b in range(tps - shift, n, tps) if b > 0]
    return starts


def write_run(run_dir: str | os.PathLike, *, proposal: int = 900001, run: int = 1,
              data: str = "raw", format_version: str = "1.3", n_trains: int = 100,
              first_train_id: int = 10000,
              trains_per_sequence: int | dict[str, int] | None = None,
              aggregators: dict[str, list[Device]] | None = None, detector: str | None = None,
              n_modules: int | None = None, frames_per_train: int = 16,
              frame_shape: tuple[int, int] | None = None, n_control_sources: int | None = None,
              legacy_names: dict[str, str] | None = None, auxiliary: bool = False,
              faults: Iterable[str] = (), seed: int = 0, processes: int | None = None,
              suspect_train_ids: Sequence[int] = (), run_type: str = "", sample: str = "",
              pad_train_ids: int = 0, old_index: bool = False) -> list[Path]:
    """Write one run directory and return its data files (sorted).

    Parameters
    ----------
    run_dir : path-like
        Directory to fill (created).
    proposal, run : int
    data : {'raw', 'proc'}
        ``raw``: ``RAW-`` files with the data aggregators and raw detector
        modules; ``proc``: ``CORR-`` files with corrected detector modules only.
    format_version : str
    n_trains, first_train_id : int
        The run's trains are ``first_train_id + arange(n_trains)``.
    trains_per_sequence : int or dict, optional
        Per aggregator name or for all; default :data:`DEFAULT_TRAINS_PER_SEQUENCE`.
        Aggregator number k (0-based, in order) breaks ``7k % (tps // 4)``
        trains earlier, so aggregators break at different trains.
    aggregators : dict, optional
        ``{aggregator: [devices]}``; default :func:`default_aggregators`
        (raw data only).
    detector : {'AGIPD1M', 'LPD1M', 'DSSC1M', 'JUNGFRAU'}, optional
        Adds one aggregator per module (see :func:`detector_aggregators`).
    n_modules, frames_per_train, frame_shape
        Detector size. ``frame_shape=None`` means the real module size
        (an AGIPD module frame is 256 KiB raw): pass a small *frame_shape*
        such as ``(8, 8)`` in tests. Each frame is one deflated HDF5 chunk,
        and the per-chunk cost dominates generation time.
    n_control_sources : int, optional
        Extra generic control sources per default data aggregator.
    legacy_names : dict, optional
        Passed to the files holding the canonical sources.
    auxiliary : bool
        Add auxiliary sources (format >= 1.3): ERRATA
        ``TRAINS_OUTSIDE_BUFFER_RANGE`` in DA01, REDUCTION per detector module.
    faults : iterable of str
        Run-level faults (:data:`RUN_FAULTS`) and file-level ones
        (:data:`FILE_FAULTS`, applied to sequence 0 of the first aggregator).
    seed : int
    processes : int, optional
        Worker processes; default: all CPUs when there are 8 files or more.
    suspect_train_ids, run_type, sample, pad_train_ids, old_index
        Passed to every :func:`write_file`.
    """
    check_format_version(format_version)
    if data not in ("raw", "proc"):
        raise MockDataError(f"data must be 'raw' or 'proc', not {data!r}")
    faults = _faults.check_faults(faults, _faults.FAULTS, f"write_run({run_dir})")
    if auxiliary and not version_at_least(format_version, "1.3"):
        raise MockDataError(f"auxiliary sources need format_version 1.3+, not {format_version!r}")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    aggs = _plan_aggregators(data, aggregators, detector, n_modules, frames_per_train,
                             frame_shape, n_control_sources, auxiliary)
    if "source_in_two_aggregators" in faults:
        names = list(aggs)
        if len(names) < 2 or not aggs[names[0]]:
            raise MockDataError("fault 'source_in_two_aggregators' needs two aggregators")
        aggs[names[1]] = aggs[names[1]] + [aggs[names[0]][0]]
    n_written = n_trains // 2 if "still_writing" in faults else n_trains
    common = dict(format_version=format_version, seed=seed, proposal=proposal, run=run,
                  run_type=run_type, sample=sample, pad_train_ids=pad_train_ids,
                  old_index=old_index, suspect_train_ids=tuple(suspect_train_ids),
                  run_first_train_id=first_train_id)
    tasks = _plan_files(run_dir, data, run, aggs, n_written, first_train_id,
                        trains_per_sequence, faults, legacy_names or {}, common)
    paths = _execute(tasks, processes)
    if "hanging_file" in faults:
        os.mkfifo(run_dir / file_name(data, run, "DA99", 0))
    return sorted(paths)


def _plan_aggregators(data: str, aggregators: dict[str, list[Device]] | None,
                      detector: str | None, n_modules: int | None, frames_per_train: int,
                      frame_shape: tuple[int, int] | None, n_control_sources: int | None,
                      auxiliary: bool) -> dict[str, list[Device]]:
    if aggregators is not None:
        aggs = {k: list(v) for k, v in aggregators.items()}
    elif data == "raw":
        aggs = default_aggregators(n_control_sources=n_control_sources)
    else:
        aggs = {}
    if auxiliary and "DA01" in aggs:
        aggs["DA01"].append(AuxiliarySource("TRAINS_OUTSIDE_BUFFER_RANGE", section="ERRATA"))
    if detector is not None:
        aggs.update(detector_aggregators(detector, raw=data == "raw", n_modules=n_modules,
                                         frames_per_train=frames_per_train,
                                         frame_shape=frame_shape, auxiliary=auxiliary))
    if not aggs:
        raise MockDataError("the run would hold no files: give a detector or aggregators")
    return aggs


def _trains_per_sequence(agg: str, devices: list[Device],
                         tps: int | dict[str, int] | None) -> int:
    if isinstance(tps, dict):
        tps = tps.get(agg)
    if tps is None:
        detector = any(isinstance(d, (XTDFModule, JUNGFRAUModule)) for d in devices)
        tps = DEFAULT_TRAINS_PER_SEQUENCE[1 if detector else 0]
    if tps < 1:
        raise MockDataError(f"trains_per_sequence must be >= 1, not {tps}")
    return tps


def _plan_files(run_dir: Path, data: str, run: int, aggs: dict[str, list[Device]],
                n_trains: int, first: int, tps: int | dict[str, int] | None,
                faults: tuple[str, ...], legacy: dict[str, str],
                common: dict[str, Any]) -> list[_FileTask]:
    tids = np.arange(first, first + n_trains, dtype=np.uint64)
    file_faults = tuple(f for f in faults if f in _faults.FILE_FAULTS)
    tasks = []
    for k, (agg, devices) in enumerate(aggs.items()):
        starts = _sequence_splits(n_trains, _trains_per_sequence(agg, devices, tps), k)
        ends = starts[1:] + [n_trains]
        sources = {s for d in devices for s in d.source_names()}
        file_legacy = {old: new for old, new in legacy.items() if new in sources}
        for seq, (a, b) in enumerate(zip(starts, ends)):
            if k == 0 and seq == 1 and "overlapping_sequences" in faults:
                a = max(a - 5, 0)
            tasks.append(_FileTask(run_dir / file_name(data, run, agg, seq), devices, tids[a:b],
                                   seq, file_faults if (k == 0 and seq == 0) else (),
                                   dict(common, legacy_names=file_legacy)))
    if "overlapping_sequences" in faults and not any(t.sequence == 1 for t in tasks[:2]):
        raise MockDataError("fault 'overlapping_sequences' needs two sequences in the first "
                            "aggregator: lower trains_per_sequence")
    return tasks


def _execute(tasks: list[_FileTask], processes: int | None) -> list[Path]:
    if processes is None:
        processes = (os.cpu_count() or 1) if len(tasks) >= 8 else 1
    if processes <= 1:
        return [_write_task(t) for t in tasks]
    with ProcessPoolExecutor(max_workers=processes) as pool:
        chunk = max(1, len(tasks) // (processes * 8))
        return list(pool.map(_write_task, tasks, chunksize=chunk))


def _sequence_files(run_dir: Path) -> dict[str, list[tuple[int, Path]]]:
    found: dict[str, list[tuple[int, Path]]] = {}
    for path in sorted(run_dir.iterdir()):
        m = _NAME_RE.match(path.name)
        if m and path.is_file():
            found.setdefault(m.group(3), []).append((int(m.group(4)), path))
    return found


def grow_file(path: str | os.PathLike, n_trains: int = 10) -> Path:
    """Rewrite a generated file in place with *n_trains* more trains at its end.

    The file keeps its inode but changes size and mtime, as a file the DAQ
    is still writing does. New trains follow the highest train ID; devices,
    seed and every other setting come from the recipe stored in the file.

    Parameters
    ----------
    path : path-like
        A file written by :func:`write_file` or :func:`write_run`.
    n_trains : int
        Trains to add.

    Returns
    -------
    Path
    """
    path = Path(path)
    recipe = read_recipe(path)
    tids = np.asarray(recipe.pop("train_ids"), dtype=np.uint64)
    start = int(tids.max()) + 1 if len(tids) else int(recipe.get("run_first_train_id") or 10000)
    new = np.concatenate([tids, np.arange(start, start + n_trains, dtype=np.uint64)])
    devices = recipe.pop("devices")
    return write_file(path, devices, train_ids=new, **recipe)


def append_sequence(run_dir: str | os.PathLike, n_trains: int = 10,
                    aggregators: Sequence[str] | None = None) -> list[Path]:
    """Add the next sequence file to each aggregator of a generated run.

    The new file of each aggregator continues after the trains of its last
    sequence file, with the same devices and settings (file-level faults
    are not repeated).

    Parameters
    ----------
    run_dir : path-like
        A run directory written by :func:`write_run`.
    n_trains : int
        Trains in each new file.
    aggregators : sequence of str, optional
        Only these aggregators (default: all of the run).

    Returns
    -------
    list of Path
        The new files.
    """
    run_dir = Path(run_dir)
    found = _sequence_files(run_dir)
    if not found:
        raise MockDataError(f"{run_dir}: no sequence files to continue")
    new_paths = []
    for agg in aggregators or sorted(found):
        if agg not in found:
            raise MockDataError(f"{run_dir}: no files of aggregator {agg!r}")
        seq, last = found[agg][-1]
        recipe = read_recipe(last)
        tids = np.asarray(recipe.pop("train_ids"), dtype=np.uint64)
        start = int(tids.max()) + 1 if len(tids) else int(recipe["run_first_train_id"] or 10000)
        recipe.update(sequence=seq + 1, faults=[],
                      train_ids=np.arange(start, start + n_trains, dtype=np.uint64))
        m = _NAME_RE.match(last.name)
        assert m is not None
        data = "raw" if m.group(1) == "RAW" else "proc"
        path = run_dir / file_name(data, int(m.group(2)), agg, seq + 1)
        new_paths.append(write_file(path, recipe.pop("devices"), **recipe))
    return new_paths
