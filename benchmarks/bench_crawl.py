"""Benchmark the crawler: cold crawl, re-crawl, catalogue size, and EXtra-data's cold open.

The tree: one realistic ~530-file raw run (16 AGIPD modules x ~32 sequences
plus 4 data aggregators with ~100 control sources of 10 keys) and 50 small
runs in 5 proposals. It is generated once into --data (default: a folder in
the temp directory) and reused.

Printed:
- cold crawl of the whole tree into a new SQLite catalogue;
- re-crawl of the unchanged tree, next to a bare ``os.scandir`` + ``stat`` walk
  of the same run directories (goal: within 3x);
- catalogue bytes per data file (goal: under 5 KB);
- cold crawl of the big run alone, and, where EXtra-data is installed in a side
  environment (``--peer-python`` or ``$EXTRA_DATA_PEER_PYTHON``, the python of a
  virtualenv with ``extra-data==1.25.0``), its cold ``RunDirectory`` on the same
  run (its JSON run map removed first), as a ratio.

Both sides read files the OS has cached (the tree was just written or read):
these are warm-cache numbers.

Usage::

    python benchmarks/bench_crawl.py [--data DIR] [-j N] [--peer-python PATH]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from extra_catalog.catalog import init_catalog, open_catalog
from extra_catalog.index.crawler import CrawlOptions, crawl
from extra_catalog.index.layout import find_runs
from extra_catalog.testing import ProposalSpec, RunSpec, default_aggregators, write_run, write_tree

BIG_RUN = "SPB/202601/p900001/raw/r0001"
PEER_SNIPPET = """
import sys, time
import extra_data
t0 = time.perf_counter()
run = extra_data.RunDirectory(sys.argv[1])
elapsed = time.perf_counter() - t0
print(elapsed, len(run.files), len(run.all_sources), len(run.train_ids))
"""


def make_tree(root: Path) -> None:
    """Write the benchmark tree unless it is already there."""
    marker = root / ".complete"
    if marker.exists():
        return
    aggregators = default_aggregators(n_aggregators=4, n_control_sources=100, n_keys=10)
    tps = {**{f"AGIPD{m:02d}": 100 for m in range(16)}, **{agg: 1000 for agg in aggregators}}
    write_run(root / BIG_RUN, proposal=900001, run=1, detector="AGIPD1M", n_trains=3100,
              trains_per_sequence=tps, aggregators=aggregators, frames_per_train=32,
              frame_shape=(8, 8))
    small = [ProposalSpec(900010 + p, "FXE", "202602", tuple(
        RunSpec(r, n_trains=200, trains_per_sequence=100) for r in range(1, 11)))
        for p in range(5)]
    write_tree(root, spec=small)
    marker.touch()


def stat_walk(root: Path) -> tuple[float, int]:
    """Time a bare walk: find the run directories, list and stat their files."""
    t0 = time.perf_counter()
    n = 0
    for loc in find_runs(root):
        with os.scandir(loc.path) as entries:
            for entry in entries:
                if entry.name.endswith(".h5"):
                    entry.stat()
                    n += 1
    return time.perf_counter() - t0, n


def timed_crawl(url: str, roots: list[Path], jobs: int | None) -> tuple[float, object]:
    with open_catalog(url) as catalog:
        t0 = time.perf_counter()
        summary = crawl(catalog, roots, CrawlOptions(settle=0, processes=jobs))
        return time.perf_counter() - t0, summary


def peer_open(python: str, run_dir: Path) -> float | None:
    """EXtra-data's cold RunDirectory on *run_dir*, in seconds (None if it failed)."""
    (run_dir / "karabo_data_map.json").unlink(missing_ok=True)
    out = subprocess.run([python, "-c", PEER_SNIPPET, str(run_dir)],
                         capture_output=True, text=True)
    (run_dir / "karabo_data_map.json").unlink(missing_ok=True)
    if out.returncode != 0:
        print(f"EXtra-data failed:\n{out.stderr[-2000:]}", file=sys.stderr)
        return None
    seconds, n_files, n_sources, n_trains = out.stdout.split()
    print(f"  EXtra-data opened {n_files} files, {n_sources} sources, {n_trains} trains")
    return float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(tempfile.gettempdir()) / "extra_catalog_bench_crawl")
    parser.add_argument("-j", "--jobs", type=int, default=None)
    parser.add_argument("--peer-python", default=os.environ.get("EXTRA_DATA_PEER_PYTHON"))
    args = parser.parse_args()

    t0 = time.perf_counter()
    make_tree(args.data)
    print(f"tree ready in {time.perf_counter() - t0:.1f} s: {args.data}")
    work = Path(tempfile.mkdtemp(prefix="bench-crawl-"))

    url = str(work / "tree.sqlite")
    init_catalog(url)
    cold, summary = timed_crawl(url, [args.data], args.jobs)
    n_files = summary.files_new
    print(f"cold crawl of the tree: {cold:.2f} s for {summary.runs_new} runs, {n_files} files "
          f"({n_files / cold:.0f} files/s)")
    # Best of three on both sides, so a stray hiccup does not decide the ratio.
    again, summary = min((timed_crawl(url, [args.data], args.jobs) for _ in range(3)),
                         key=lambda pair: pair[0])
    walk, walked = min(stat_walk(args.data) for _ in range(3))
    print(f"re-crawl of the unchanged tree: {again * 1e3:.0f} ms "
          f"({summary.runs_unchanged} runs unchanged); bare scandir+stat walk of {walked} files: "
          f"{walk * 1e3:.0f} ms -> ratio {again / walk:.1f}x (goal <= 3x)")
    size = sum(p.stat().st_size for p in work.glob("tree.sqlite*"))
    print(f"catalogue: {size / 1e6:.2f} MB, {size / n_files:.0f} bytes per data file "
          f"(goal < 5000)")

    big = args.data / BIG_RUN
    url_big = str(work / "big.sqlite")
    init_catalog(url_big)
    ours, summary = timed_crawl(url_big, [big], args.jobs)
    print(f"cold crawl of the big run alone ({summary.files_new} files): {ours:.2f} s")
    if args.peer_python:
        theirs = peer_open(args.peer_python, big)
        if theirs is not None:
            print(f"EXtra-data cold RunDirectory on the big run: {theirs:.2f} s -> "
                  f"extra_catalog crawl / EXtra-data open = {ours / theirs:.2f} (goal <= 1)")
    else:
        print("EXtra-data comparison skipped: set --peer-python or $EXTRA_DATA_PEER_PYTHON")


if __name__ == "__main__":
    main()
