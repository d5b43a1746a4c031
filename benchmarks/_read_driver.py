"""Time one reading operation in this (fresh) process; used by bench_read.py.

Runs under extra_catalog's python or under a side environment's python with
EXtra-data, so it imports nothing from the project or the benchmarks: the
library under test is named on the command line, and both have the same API.

Usage::

    python _read_driver.py LIBRARY OPERATION SPEC_JSON

LIBRARY is ``extra_catalog``, ``extra_data`` or ``h5py`` (the bare read the
detector slice is compared with). SPEC_JSON describes the run and what to
read (see ``bench_read.spec_for``). One JSON object is printed: seconds per
timed step and a small digest of what was read, so that the two libraries
can be checked to have read the same data.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import json
import sys
import time
from typing import Any, Callable

import numpy as np


def timed(func: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = func()
    return time.perf_counter() - t0, result


def digest(arr: np.ndarray) -> list[Any]:
    """Shape and sum: enough to see both sides read the same rows."""
    return [list(arr.shape), float(np.asarray(arr, dtype=np.float64).sum())]


def bare_h5py(spec: dict[str, Any]) -> dict[str, Any]:
    """Read the detector rows with h5py alone (first/count known).

    First opening the file, as a fresh process must; then the next rows
    from the file already open, as the library's second read.
    """
    import h5py

    h5 = spec["h5"]
    first, count, more = h5["first"], h5["count"], h5["count_more"]
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    with h5py.File(h5["path"], "r") as f:
        ds = f[h5["dataset"]]
        arr = ds[first:first + count]
        out["detector"] = time.perf_counter() - t0
        out["detector_more"], again = timed(lambda: ds[first + count:first + count + more])
    out["digest"] = digest(arr) + digest(again)
    return out


def run_operation(lib: Any, op: str, spec: dict[str, Any]) -> dict[str, Any]:
    def open_() -> Any:
        return lib.open_run(spec["proposal"], spec["run"])

    out: dict[str, Any] = {}
    # The first open pays for whatever the library imports lazily; the
    # second, on fresh objects, is what opening another run costs.
    out["open_first"], run = timed(open_)
    del run
    gc.collect()
    out["open_again"], run = timed(open_)
    a = spec["first_train_index"]
    if op == "open":
        out["digest"] = [len(run.files), len(run.all_sources), len(run.train_ids)]
    elif op == "info":
        if not hasattr(run, "info"):
            return {"skipped": "DataCollection.info is not implemented"}
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink):
            out["info"], _ = timed(run.info)
        out["digest"] = [len(sink.getvalue().splitlines())]
    elif op == "control":
        src, key = spec["control"]
        out["control"], arr = timed(lambda: run[src, key].ndarray())
        out["digest"] = digest(arr)
    elif op == "detector":
        src, key = spec["detector"]
        by_index = lib.by_index
        out["detector"], arr = timed(lambda: run[src, key][by_index[a:a + 10]].ndarray())
        # The next 10 trains: the source's metadata is known, the file open.
        out["detector_more"], again = timed(
            lambda: run[src, key][by_index[a + 10:a + 20]].ndarray())
        out["digest"] = digest(arr) + digest(again)
    elif op == "trains":
        selection = [tuple(pair) for pair in spec["selection"]]
        by_index = lib.by_index

        def iterate() -> list[Any]:
            sel = run.select(selection).select_trains(by_index[a:a + 10])
            return [(tid, sum(len(v) for v in data.values())) for tid, data in sel.trains()]

        out["trains"], seen = timed(iterate)
        out["digest"] = [len(seen), sum(n for _, n in seen)]
    else:
        raise SystemExit(f"unknown operation {op!r}")
    return out


def main() -> None:
    library, op, spec_json = sys.argv[1:4]
    spec = json.loads(spec_json)
    if library == "h5py":
        result = bare_h5py(spec)
    else:
        seconds, lib = timed(lambda: importlib.import_module(library))
        result = run_operation(lib, op, spec)
        if "skipped" not in result:
            result["import"] = seconds
    print(json.dumps(result))


if __name__ == "__main__":
    main()
