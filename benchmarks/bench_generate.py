"""Benchmark: generate a realistic ~500-file raw run with extra_catalog.testing.

16 AGIPD modules x ~31 sequence files (100 trains each, 32 frames per train,
small 8x8 frames, one deflated frame per chunk) plus 4 data aggregators with ~100 control sources of
10 keys each, 3100 trains. Prints the wall time and files per second.

Time is dominated by deflating one HDF5 chunk per detector frame
(3,200 frames per module file here).

Usage: python benchmarks/bench_generate.py [--out DIR] [--processes N] [--keep]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from extra_catalog.testing import default_aggregators, write_run


def generate(out: Path, processes: int | None) -> tuple[int, float, int]:
    """Write the benchmark run into *out*; return (files, seconds, bytes)."""
    aggregators = default_aggregators(n_aggregators=4, n_control_sources=100, n_keys=10)
    start = time.perf_counter()
    paths = write_run(out, proposal=900001, run=1, detector="AGIPD1M", n_trains=3100,
                      trains_per_sequence={**{f"AGIPD{m:02d}": 100 for m in range(16)},
                                           **{agg: 1000 for agg in aggregators}},
                      aggregators=aggregators, frames_per_train=32, frame_shape=(8, 8),
                      processes=processes)
    elapsed = time.perf_counter() - start
    return len(paths), elapsed, sum(p.stat().st_size for p in paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="run directory (default: temp)")
    parser.add_argument("--processes", type=int, default=None, help="worker processes")
    parser.add_argument("--keep", action="store_true", help="keep the generated run")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-generate-")) / "r0001"
    try:
        n, seconds, size = generate(out, args.processes)
        # CPU time shows how much of the wall time other load on the machine took.
        cpu = sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
                  for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        print(f"{n} files, {size / 1e6:.0f} MB in {seconds:.1f} s "
              f"({n / seconds:.1f} files/s, {os.cpu_count()} CPUs, {cpu:.1f} CPU s) -> {out}")
    finally:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
