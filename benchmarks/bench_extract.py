"""Measure how long FileAccess takes to read files (run: python benchmarks/bench_extract.py).

Writes a few generated files to a temporary
directory and prints, per file, the best of several runs of:

- ``FileAccess(path)`` (train IDs, flags, source lists only),
- ``to_record()`` (everything: index arrays, keys, attributes, RUN values),
- ``FileAccess.from_record(record)`` (no HDF5 access at all).
"""

from __future__ import annotations

import gc
import tempfile
import time
from pathlib import Path

from extra_catalog.fileaccess import FileAccess, file_access, get_handle_cache
from extra_catalog.testing import ControlDevice, XTDFModule, write_file

REPEAT = 5


def fresh() -> None:
    file_access._registry.clear()
    get_handle_cache().close_all()
    gc.collect()


def best(fn) -> tuple[float, float]:
    """Best wall-clock and CPU seconds of *fn* over REPEAT runs."""
    walls, cpus = [], []
    for _ in range(REPEAT):
        fresh()
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return min(walls), min(cpus)


def measure(path: Path, label: str) -> None:
    open_w, _ = best(lambda: FileAccess(path))
    rec_w, rec_c = best(lambda: FileAccess(path).to_record())
    record = FileAccess(path).to_record()
    n_keys = sum(len(s.keys) for s in record.sources)
    n_run = sum(len(s.run_values) for s in record.sources)
    from_w, _ = best(lambda: FileAccess.from_record(record))
    print(f"{label}: {len(record.sources)} sources, {n_keys} keys, {n_run} RUN values")
    print(f"  FileAccess(path)   {open_w * 1e3:7.1f} ms")
    print(f"  to_record()        {rec_w * 1e3:7.1f} ms (cpu {rec_c * 1e3:.1f} ms)")
    print(f"  from_record()      {from_w * 1e3:7.3f} ms")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for n_props in (5, 10):
            devices = [ControlDevice(f"SA1_DEV/CTRL/D{i:03d}", n_keys=n_props) for i in range(100)]
            path = write_file(root / f"RAW-R0001-DA0{n_props // 5}-S00000.h5", devices,
                              n_trains=500)
            measure(path, f"DA file, 100 control sources x {n_props} properties")
        module = XTDFModule("SPB_DET_AGIPD1M-1/DET/0CH0:xtdf", frames_per_train=64,
                            frame_shape=(16, 16))
        path = write_file(root / "RAW-R0001-AGIPD00-S00000.h5", [module], n_trains=250)
        measure(path, "AGIPD module file, 250 trains")


if __name__ == "__main__":
    main()
