"""Benchmark validation of a ~530-file run, side by side with EXtra-data.

The run is bench_generate's (16 AGIPD modules x ~31 sequence files plus 4
data aggregators with ~100 control sources of 10 keys each, 3100 trains),
written once into --data and reused.

Printed:
- ``RunValidator`` reading every file (worker processes, per-file deadline);
- the same question answered from the catalogue after a crawl (what
  ``extra-data-validate`` does for an unchanged catalogued run), and the
  crawl itself;
- the cost the checks add to the crawler's read of one file of each kind;
- where EXtra-data is installed in a side environment (``--peer-python`` or
  ``$EXTRA_DATA_PEER_PYTHON``), its ``extra-data-validate`` on the same run,
  with the number of problems each side reports (both should say none).

The files are in the OS cache (just written or read): warm-cache numbers.

Usage::

    python benchmarks/bench_validate.py [--data DIR] [-j N] [--peer-python PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_crawl import BIG_RUN, timed_crawl
from bench_generate import generate

from extra_catalog.catalog import init_catalog, open_catalog
from extra_catalog.fileaccess.file_access import read_record
from extra_catalog.validation import RunValidator
from extra_catalog.validation.catalogued import catalogued_run, is_unchanged, stored_problems
from extra_catalog.validation.checks import FileContext, run_file_checks


def prepare(root: Path, processes: int | None) -> Path:
    """Write the run unless it is already there; return its directory."""
    run_dir = root / BIG_RUN
    marker = root / ".validate-complete"
    if not marker.exists():
        n, seconds, size = generate(run_dir, processes)
        print(f"generated {n} files, {size / 1e6:.0f} MB in {seconds:.1f} s")
        marker.touch()
    return run_dir


def best_of(n: int, func):  # type: ignore[no-untyped-def]
    """(seconds, result) of the fastest of *n* calls."""
    runs = []
    for _ in range(n):
        t0 = time.perf_counter()
        result = func()
        runs.append((time.perf_counter() - t0, result))
    return min(runs, key=lambda pair: pair[0])


def median_time(func, n: int = 7) -> float:  # type: ignore[no-untyped-def]
    """Median seconds of *n* calls of *func*."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def check_cost(run_dir: Path) -> None:
    """Median time to read one file's record with and without the checks."""
    def checks(view, record):  # type: ignore[no-untyped-def]
        return run_file_checks(FileContext(record, view))

    for name in ("RAW-R0001-DA01-S00000.h5", "RAW-R0001-AGIPD00-S00000.h5"):
        path = str(run_dir / name)
        plain = median_time(lambda: read_record(path))
        checked = median_time(lambda: read_record(path, checks=checks))
        print(f"  {name}: record {plain * 1e3:.1f} ms, record + checks {checked * 1e3:.1f} ms "
              f"(+{(checked - plain) * 1e3:.1f} ms)")


def peer_validate(python: str, run_dir: Path) -> tuple[float, int, str] | None:
    """Seconds, exit status and last line of EXtra-data's extra-data-validate on *run_dir*."""
    code = "import sys; from extra_data.validation import main; sys.exit(main(sys.argv[1:]))"
    t0 = time.perf_counter()
    out = subprocess.run([python, "-c", code, str(run_dir)], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - t0
    lines = out.stdout.strip().splitlines()
    if out.returncode not in (0, 1):
        print(f"EXtra-data failed:\n{out.stderr[-2000:]}", file=sys.stderr)
        return None
    return seconds, out.returncode, lines[-1] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(tempfile.gettempdir()) / "extra_catalog_bench_validate")
    parser.add_argument("-j", "--jobs", type=int, default=None)
    parser.add_argument("--peer-python", default=os.environ.get("EXTRA_DATA_PEER_PYTHON"))
    args = parser.parse_args()
    run_dir = prepare(args.data, args.jobs)
    n_files = len(list(run_dir.glob("*.h5")))
    print(f"run: {run_dir} ({n_files} files), {os.cpu_count()} CPUs")

    ours, validator = best_of(2, lambda: _validate(run_dir, args.jobs))
    print(f"RunValidator reading every file: {ours:.2f} s ({n_files / ours:.0f} files/s), "
          f"{len(validator.problems)} problems")

    url = str(Path(tempfile.mkdtemp(prefix="bench-validate-")) / "catalog.sqlite")
    init_catalog(url)
    crawl_s, summary = timed_crawl(url, [run_dir], args.jobs)
    print(f"crawl (records + checks): {crawl_s:.2f} s for {summary.files_new} files")
    with open_catalog(url) as catalog:
        stored_s, stored = best_of(3, lambda: _stored(catalog, run_dir))
    print(f"answer from the catalogue (unchanged run): {stored_s * 1e3:.0f} ms, "
          f"{len(stored)} problems")
    print("cost of the checks per file read:")
    check_cost(run_dir)

    if args.peer_python:
        found = peer_validate(args.peer_python, run_dir)
        if found is not None:
            theirs, status, last = found
            print(f"EXtra-data extra-data-validate: {theirs:.2f} s (exit {status}: {last!r}) -> "
                  f"RunValidator / EXtra-data = {ours / theirs:.2f}, "
                  f"catalogue answer / EXtra-data = {stored_s / theirs:.4f}")
    else:
        print("EXtra-data comparison skipped: set --peer-python or $EXTRA_DATA_PEER_PYTHON")


def _validate(run_dir: Path, jobs: int | None) -> RunValidator:
    validator = RunValidator(run_dir, processes=jobs, catalog=False)
    validator.run_checks()
    return validator


def _stored(catalog, run_dir: Path) -> list[dict]:  # type: ignore[no-untyped-def]
    run = catalogued_run(catalog, str(run_dir))
    assert run is not None and is_unchanged(str(run_dir), run)
    return stored_problems(run)


if __name__ == "__main__":
    main()
