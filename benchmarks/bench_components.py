"""Benchmark detector components on a catalogued 528-file run, side by side with EXtra-data.

The run is bench_read's (bench_generate's 16 raw AGIPD modules x 32
sequence files, 3100 trains of 32 frames of 2 x 8 x 8 pixels, plus 16
aggregator files), under --data with its catalogue; both are made when
absent. Every operation runs in a fresh process per repeat (median shown):

- ``build``: ``open_run``, ``AGIPD1M(run)``, ``det['image.data'].dask_array()``
  (the unlabelled graph) and ``det.get_dask_array('image.data')`` (labelled:
  it needs the pulse IDs, so both libraries read ``image.pulseId`` from every
  module file); the HDF5 files each step opens are counted;
- ``train``: one train of all 16 modules, ``det.select_trains(...).get_array()``
  and ``det['image.data'][by_index[i]].ndarray()``;
- ``distributed`` (once, when ``dask.distributed`` is installed): the sum of
  200 trains of all modules computed on a local cluster of 2 worker processes.

Also reported for extra_catalog: what a controller holds for the run — the
Python memory allocated by opening the run, building the detector and its
dask array (tracemalloc; libraries imported beforehand), and the pickled
size of the dask graph (what is shipped to workers), per 1,000 files.

Goals (issue 7): object and graph built at least 10x faster than EXtra-data;
reading no slower; the index under 10 MB per 1,000 files.

Usage::

    python benchmarks/bench_components.py [--data DIR] [--repeats N] [--peer-python PATH]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

from _bytecode import ensure_bytecode
from bench_crawl import BIG_RUN
from bench_read import prepare

from extra_catalog.cli._table import format_table

DRIVER = str(Path(__file__).with_name("_components_driver.py"))
SPEC = {"proposal": 900001, "run": 1, "train_index": 1505, "dist_trains": 200}
BUILD_STEPS = [("import the library", "import"), ("open_run", "open"),
               ("AGIPD1M(run)", "detector"), ("det['image.data'].dask_array()", "dask"),
               ("det.get_dask_array('image.data')", "get_dask")]
READ_STEPS = [("one train, select_trains().get_array()", "train"),
              ("one train, det[key][by_index[i]].ndarray()", "train_ndarray")]


def drive(python: str, library: str, op: str, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run([python, DRIVER, library, op, json.dumps(SPEC)], capture_output=True,
                         text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"{library} {op} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def controller_index(env: dict[str, str]) -> dict[str, float]:
    """Pickled metadata and allocated memory of the run and detector, per 1,000 files."""
    os.environ.update(env)
    import dask.array  # noqa: F401 - imported before measuring: not the index
    import pandas  # noqa: F401
    import xarray  # noqa: F401

    from extra_catalog import open_run
    from extra_catalog.components import AGIPD1M

    open_run(SPEC["proposal"], SPEC["run"], data="raw")  # imports and caches warmed up
    # Nothing of that open may stay alive to be shared by the measured one
    # (a collection kept only by a reference cycle would be, until collected).
    gc.collect()
    tracemalloc.start()
    run = open_run(SPEC["proposal"], SPEC["run"], data="raw")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        det = AGIPD1M(run, raw=True)
    arr = det["image.data"].dask_array()
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    n = len(run.files)
    graph = len(pickle.dumps(dict(arr.__dask_graph__())))
    return {"files": n, "graph_mb_per_1000": graph / n * 1000 / 1e6,
            "allocated_mb_per_1000": held / n * 1000 / 1e6}


def median(results: list[dict[str, Any]], name: str) -> float | None:
    values = [r[name] for r in results if name in r]
    return statistics.median(values) if values else None


def ms(value: float | None) -> str | None:
    return None if value is None else f"{value * 1e3:.1f}"


def table(ours: list[dict[str, Any]], peer: list[dict[str, Any]],
          steps: list[tuple[str, str]]) -> str:
    rows = []
    for label, name in steps:
        a, b = median(ours, name), median(peer, name)
        files_a, files_b = median(ours, f"{name}_files"), median(peer, f"{name}_files")
        rows.append([label, ms(a), ms(b), None if not (a and b) else f"{b / a:.1f}x",
                     None if files_a is None else int(files_a),
                     None if files_b is None else int(files_b)])
    return format_table(["step (median ms)", "ours", "EXtra-data", "speed-up",
                         "files opened (ours)", "files opened (EXtra-data)"], rows)


def goals(build_o: list[dict[str, Any]], build_p: list[dict[str, Any]],
          read_o: list[dict[str, Any]], read_p: list[dict[str, Any]],
          index: dict[str, float]) -> list[str]:
    out = []
    if build_p:
        ours = sum(median(build_o, s) or 0 for s in ("detector", "dask"))
        peer = sum(median(build_p, s) or 0 for s in ("detector", "dask"))
        out.append(f"object + graph built {peer / ours:.1f}x faster than EXtra-data "
                   f"(goal >= 10x): {'met' if peer / ours >= 10 else 'NOT met'}")
        slow = [label for label, name in READ_STEPS
                if (median(read_o, name) or 0) > (median(read_p, name) or float("inf"))]
        out.append("reading no slower than EXtra-data: " +
                   ("met" if not slow else "NOT met (" + "; ".join(slow) + ")"))
    mb = index["allocated_mb_per_1000"]
    out.append(f"controller index {mb:.1f} MB allocated per 1,000 files (goal < 10 MB): "
               f"{'met' if mb < 10 else 'NOT met'}; pickled dask graph "
               f"{index['graph_mb_per_1000']:.1f} MB per 1,000 files")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(tempfile.gettempdir()) / "extra_catalog_bench_read",
                        help="facility root holding the run (generated when absent)")
    parser.add_argument("--repeats", type=int, default=5, help="fresh processes per operation")
    parser.add_argument("--processes", type=int, default=None,
                        help="worker processes for generating and crawling")
    parser.add_argument("--peer-python", default=os.environ.get("EXTRA_DATA_PEER_PYTHON"))
    args = parser.parse_args()

    root = args.data.resolve()
    url = prepare(root, args.processes)
    print(f"run: {root / BIG_RUN}")
    env = {**os.environ, "EXTRA_DATA_DATA_ROOT": str(root), "EXTRA_CATALOG_URL": url}
    ensure_bytecode()  # as a wheel install has it, and EXtra-data does
    peer = args.peer_python
    if peer:  # an untimed first open writes EXtra-data's JSON run map, used from then on
        drive(peer, "extra_data", "build", env)
    res: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for i in range(args.repeats):
        for op in ("build", "train"):  # sides alternate so a busy moment hits both
            res.setdefault(("ours", op), []).append(drive(sys.executable, "extra_catalog", op, env))
            if peer:
                res.setdefault(("peer", op), []).append(drive(peer, "extra_data", op, env))
        print(f"  repeat {i + 1}/{args.repeats} done", flush=True)
    dist = drive(sys.executable, "extra_catalog", "distributed", env)
    index = controller_index(env)

    first = res[("ours", "build")][0]
    print(f"\n{index['files']} files; dask array {first['shape']} in {first['dask_chunks']} "
          f"chunks\n")
    print(table(res[("ours", "build")], res.get(("peer", "build"), []), BUILD_STEPS))
    print()
    print(table(res[("ours", "train")], res.get(("peer", "train"), []), READ_STEPS))
    print()
    if "skipped" in dist:
        print(f"distributed: skipped ({dist['skipped']})")
    else:
        print(f"distributed: sum of {SPEC['dist_trains']} trains ({dist['dist_chunks']} chunks) "
              f"on a 2-worker LocalCluster in {dist['distributed']:.2f} s")
    ours_d = [r["digest"] for r in res[("ours", "train")]][0]
    if peer and ours_d != res[("peer", "train")][0]["digest"]:
        print(f"NOTE: the train read differs: ours {ours_d}, EXtra-data "
              f"{res[('peer', 'train')][0]['digest']}")
    for line in goals(res[("ours", "build")], res.get(("peer", "build"), []),
                      res[("ours", "train")], res.get(("peer", "train"), []), index):
        print(line)
    if not peer:
        print("EXtra-data comparison skipped: set --peer-python or $EXTRA_DATA_PEER_PYTHON")


if __name__ == "__main__":
    main()
