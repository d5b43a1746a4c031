"""Time detector-component operations in this (fresh) process; used by bench_components.py.

Runs under extra_catalog's python or under a side environment's python with
EXtra-data, so it imports nothing from the project or the benchmarks: the
library is named on the command line and both have the same API.

Usage::

    python _components_driver.py LIBRARY OPERATION SPEC_JSON

OPERATION is ``build`` (open the run, build ``AGIPD1M``, its unlabelled
dask array and ``get_dask_array``; HDF5 files opened by each step counted),
``train`` (read one train of every module) or ``distributed`` (one dask
computation on a ``dask.distributed`` local cluster). One JSON object is
printed: seconds per step, counts, and a digest of what was read.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import sys
import time
import warnings
from typing import Any, Callable

import h5py
import numpy as np

OPENED = [0]


def count_opens() -> None:
    """Count every h5py.File opened from now on (both libraries open through it)."""
    real_init = h5py.File.__init__

    def init(self: h5py.File, name: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(name, (str, bytes, os.PathLike)):  # not File(id) from ds.file
            OPENED[0] += 1
        real_init(self, name, *args, **kwargs)

    h5py.File.__init__ = init  # type: ignore[method-assign]


def timed(func: Callable[[], Any]) -> tuple[float, int, Any]:
    """Seconds, files opened and result of *func*."""
    before = OPENED[0]
    t0 = time.perf_counter()
    result = func()
    return time.perf_counter() - t0, OPENED[0] - before, result


def digest(arr: Any) -> list[Any]:
    return [list(arr.shape), float(np.asarray(arr, dtype=np.float64).sum())]


def detector(lib: Any, comp: Any, spec: dict[str, Any]) -> Any:
    run = lib.open_run(spec["proposal"], spec["run"], data="raw")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return comp.AGIPD1M(run, raw=True)


def build(lib: Any, comp: Any, spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    secs, n, run = timed(lambda: lib.open_run(spec["proposal"], spec["run"], data="raw"))
    out.update(open=secs, open_files=n)

    def make() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return comp.AGIPD1M(run, raw=True)

    secs, n, det = timed(make)
    out.update(detector=secs, detector_files=n)
    secs, n, arr = timed(lambda: det["image.data"].dask_array())
    out.update(dask=secs, dask_files=n, dask_chunks=len(arr.chunks[1]), shape=list(arr.shape))
    secs, n, labelled = timed(lambda: det.get_dask_array("image.data"))
    out.update(get_dask=secs, get_dask_files=n)
    return out


def train(lib: Any, comp: Any, spec: dict[str, Any]) -> dict[str, Any]:
    det = detector(lib, comp, spec)
    i = spec["train_index"]
    secs, n, arr = timed(lambda: det.select_trains(lib.by_index[i:i + 1]).get_array("image.data"))
    secs2, n2, raw = timed(lambda: det["image.data"][lib.by_index[i + 1:i + 2]].ndarray())
    return {"train": secs, "train_files": n, "train_ndarray": secs2, "train_ndarray_files": n2,
            "digest": digest(arr.values) + digest(raw)}


def distributed(lib: Any, comp: Any, spec: dict[str, Any]) -> dict[str, Any]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        return {"skipped": "dask.distributed is not installed"}
    det = detector(lib, comp, spec)
    arr = det["image.data"][lib.by_index[:spec["dist_trains"]]].dask_array()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.run(lambda: None)  # workers up before timing
        t0 = time.perf_counter()
        total = float(arr.sum(dtype=np.float64).compute())
        secs = time.perf_counter() - t0
    return {"distributed": secs, "dist_chunks": len(arr.chunks[1]),
            "digest": [list(arr.shape), total]}


def main() -> None:
    library, op, spec_json = sys.argv[1:4]
    spec = json.loads(spec_json)
    t0 = time.perf_counter()
    lib = importlib.import_module(library)
    comp = importlib.import_module(f"{library}.components")
    # What either library may import lazily on first use, so the steps time work.
    for name in ("pandas", "xarray", "dask.array"):
        importlib.import_module(name)
    imported = time.perf_counter() - t0
    # The objects the imports made (~100,000) are due a full collection: pay it
    # here, so that it does not land in whichever timed step allocates next.
    gc.collect()
    count_opens()
    result = {"build": build, "train": train, "distributed": distributed}[op](lib, comp, spec)
    if op == "build":
        result["import"] = imported
    print(json.dumps(result))


if __name__ == "__main__":
    main()
