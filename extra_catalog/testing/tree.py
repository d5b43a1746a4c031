"""Facility trees: ``<root>/<INSTR>/<CYCLE>/p<NNNNNN>/{raw,proc,usr,scratch}/r<NNNN>/``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Sequence

from ._common import MockDataError
from .runs import write_run

__all__ = ["RunSpec", "ProposalSpec", "write_tree", "write_demo_tree", "DEFAULT_TREE",
           "DEMO_TREE", "run_directory"]

#: Trains left out between consecutive runs of a tree (train IDs never repeat).
RUN_GAP_TRAINS = 1000


@dataclass(frozen=True)
class RunSpec:
    """One run of a proposal in a tree (arguments of :func:`write_run`).

    ``first_train_id=None`` continues after the previous run of the tree.
    ``proc=True`` also writes the corrected (``proc``) run of the detector.
    """

    run: int
    format_version: str = "1.3"
    n_trains: int = 50
    first_train_id: int | None = None
    detector: str | None = None
    n_modules: int | None = None
    frames_per_train: int = 4
    frame_shape: tuple[int, int] | None = (16, 16)
    proc: bool = False
    faults: tuple[str, ...] = ()
    suspect_train_ids: tuple[int, ...] = ()
    auxiliary: bool = False
    trains_per_sequence: int | None = None
    n_control_sources: int | None = None
    run_type: str = ""
    sample: str = ""


@dataclass(frozen=True)
class ProposalSpec:
    """A proposal directory and its runs.

    ``suspect_train_ids`` of a RunSpec may be given relative to the run's
    first train when they are smaller than 10000 (e.g. ``(3, 4)``).
    """

    proposal: int
    instrument: str = "SPB"
    cycle: str = "202601"
    runs: tuple[RunSpec, ...] = field(default_factory=tuple)


#: write_tree's default: two proposals with two runs each.
DEFAULT_TREE: tuple[ProposalSpec, ...] = (
    ProposalSpec(900001, "SPB", "202601", (
        RunSpec(1), RunSpec(2, detector="AGIPD1M", n_modules=2, proc=True))),
    ProposalSpec(900002, "FXE", "202601", (
        RunSpec(1, format_version="1.0"), RunSpec(2, format_version="1.2"))),
)

#: The README demo: 2 instruments, 3 proposals, 8 raw runs + 1 proc run, every format version.
DEMO_TREE: tuple[ProposalSpec, ...] = (
    ProposalSpec(900001, "SPB", "202601", (
        RunSpec(1, format_version="0.5", n_trains=60),
        RunSpec(2, detector="AGIPD1M", n_modules=4, frames_per_train=8, frame_shape=(32, 32),
                proc=True, n_trains=60, trains_per_sequence=25, run_type="SASE1 SFX",
                sample="Lysozyme"),
        RunSpec(3, detector="JUNGFRAU", n_modules=2, frame_shape=(32, 64), n_trains=40,
                run_type="SASE1 imaging", sample="Gold foil"),
        RunSpec(4, format_version="1.2", n_trains=80, suspect_train_ids=(5, 6, 40),
                run_type="Calibration", sample="None"),
    )),
    ProposalSpec(900002, "SPB", "202602", (
        RunSpec(1, format_version="1.1", n_trains=50, suspect_train_ids=(10,)),
        RunSpec(2, format_version="1.0", n_trains=50, sample="Water jet"),
    )),
    ProposalSpec(900003, "FXE", "202601", (
        RunSpec(1, detector="LPD1M", n_modules=2, frames_per_train=4, frame_shape=(32, 32),
                auxiliary=True, n_trains=40),
        RunSpec(2, format_version="1.2", n_trains=100, trains_per_sequence=40),
    )),
)


def run_directory(root: str | os.PathLike, instrument: str, cycle: str, proposal: int,
                  run: int, data: str = "raw") -> Path:
    """``<root>/<INSTR>/<CYCLE>/p<proposal:06d>/<data>/r<run:04d>``."""
    return Path(root) / instrument / cycle / f"p{proposal:06d}" / data / f"r{run:04d}"


def _as_proposal(item: ProposalSpec | dict[str, Any]) -> ProposalSpec:
    if isinstance(item, ProposalSpec):
        return item
    data = dict(item)
    names = {f.name for f in fields(RunSpec)}
    runs = []
    for r in data.pop("runs", ()):
        if isinstance(r, RunSpec):
            runs.append(r)
            continue
        unknown = set(r) - names
        if unknown:
            raise MockDataError(f"unknown run spec field(s) {sorted(unknown)} in {r!r}")
        runs.append(RunSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in r.items()}))
    return ProposalSpec(runs=tuple(runs), **data)


def write_tree(root: str | os.PathLike, *,
               spec: Sequence[ProposalSpec | dict[str, Any]] | None = None,
               seed: int = 0) -> list[Path]:
    """Write a facility tree and return its run directories (raw, then proc).

    Parameters
    ----------
    root : path-like
        Facility root (like ``/gpfs/exfel/exp``).
    spec : sequence of ProposalSpec or dict, optional
        Proposals and their runs. Dicts take ProposalSpec's fields with
        ``runs`` a list of dicts of :class:`RunSpec` fields, e.g.
        ``[{'proposal': 900001, 'instrument': 'SPB', 'cycle': '202601',
        'runs': [{'run': 1, 'format_version': '1.0'}]}]``.
        Default: :data:`DEFAULT_TREE`.
    seed : int
        Seed of every run's values.

    Every proposal directory also gets empty ``usr/`` and ``scratch/``.
    Runs without an explicit ``first_train_id`` follow each other in train
    IDs (with :data:`RUN_GAP_TRAINS` between runs), so IDs never repeat.
    """
    proposals = [_as_proposal(p) for p in (DEFAULT_TREE if spec is None else spec)]
    next_train = 10000
    run_dirs = []
    for prop in proposals:
        prop_dir = run_directory(root, prop.instrument, prop.cycle, prop.proposal, 0).parent.parent
        for extra in ("usr", "scratch"):
            (prop_dir / extra).mkdir(parents=True, exist_ok=True)
        for spec_run in prop.runs:
            first = spec_run.first_train_id if spec_run.first_train_id is not None else next_train
            run_dirs += _write_spec_run(root, prop, spec_run, first, seed)
            next_train = max(next_train, first + spec_run.n_trains + RUN_GAP_TRAINS)
    return run_dirs


def _write_spec_run(root: str | os.PathLike, prop: ProposalSpec, r: RunSpec, first: int,
                    seed: int) -> list[Path]:
    suspect = tuple(t + first if t < 10000 else t for t in r.suspect_train_ids)
    common = dict(proposal=prop.proposal, run=r.run, format_version=r.format_version,
                  n_trains=r.n_trains, first_train_id=first, detector=r.detector,
                  n_modules=r.n_modules, frames_per_train=r.frames_per_train,
                  frame_shape=r.frame_shape, auxiliary=r.auxiliary, seed=seed,
                  trains_per_sequence=r.trains_per_sequence, suspect_train_ids=suspect,
                  run_type=r.run_type, sample=r.sample)
    dirs = []
    for data in ("raw", "proc") if r.proc else ("raw",):
        if data == "proc" and r.detector is None:
            raise MockDataError(f"run {r.run} of p{prop.proposal:06d}: proc needs a detector")
        out = run_directory(root, prop.instrument, prop.cycle, prop.proposal, r.run, data)
        write_run(out, data=data, n_control_sources=r.n_control_sources if data == "raw" else None,
                  faults=r.faults if data == "raw" else (), **common)
        dirs.append(out)
    return dirs


def write_demo_tree(root: str | os.PathLike, *, seed: int = 0) -> list[Path]:
    """Write the README demo tree (:data:`DEMO_TREE`) and return its run directories.

    Two instruments (SPB, FXE), three proposals, eight raw runs covering
    every format version (0.5 to 1.3), an AGIPD run with four modules and
    its proc run, a JUNGFRAU run, an LPD run with auxiliary sources and runs
    with suspect trains. Takes a few seconds.
    """
    return write_tree(root, spec=DEMO_TREE, seed=seed)

