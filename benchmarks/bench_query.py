"""Benchmark cross-run queries: against EXtra-data on a small tree, and at facility scale.

1. A generated tree of 50 small runs in 5 proposals (a JUNGFRAU module in
   every third run) is crawled into an SQLite catalogue. "Runs containing
   source X and their train counts" is timed as ``Catalog.runs(source=X)``
   (median of --tree-repeats) next to EXtra-data opening every run with
   ``RunDirectory`` and checking ``X in run.all_sources`` and
   ``len(run.train_ids)``: cold-ish (its JSON run maps removed; the OS cache
   is warm on both sides) and with warm JSON maps. EXtra-data runs in its own
   environment (``--peer-python`` or ``$EXTRA_DATA_PEER_PYTHON``); the answers
   must agree. Goal: 100x faster than EXtra-data with warm maps.
2. Facility scale, simulated: a fresh catalogue filled with synthetic rows
   for --runs runs (default 100,000; ~100 file-source rows each, so ~10
   million) straight into the database (see ``_query_fill.py``), on SQLite
   and, if the server answers, on a throwaway PostgreSQL database. Then the
   five most common queries, each with --repeats varied parameters through
   the public ``Catalog`` API (admin, then the median with visibility on),
   with median and 95th-percentile latency (goal: p95 under 1 s) and the
   indexes their SQL statements use (EXPLAIN QUERY PLAN / EXPLAIN).

Usage::

    python benchmarks/bench_query.py [--data DIR] [--runs N] [--repeats N]
        [--pg-url URL | --no-pg] [--peer-python PATH] [--skip-tree | --skip-scale]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _query_fill import Facility, fill_catalogs  # noqa: E402

from extra_catalog import Catalog  # noqa: E402
from extra_catalog.catalog import init_catalog, open_catalog  # noqa: E402
from extra_catalog.index.crawler import CrawlOptions, crawl  # noqa: E402
from extra_catalog.testing import ProposalSpec, RunSpec, write_tree  # noqa: E402

DEFAULT_PG_URL = os.environ.get("EXTRA_CATALOG_TEST_PG_URL",
                                "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# bench_crawl's 50 small runs all have the same sources; here a detector
# module in every third run makes "runs with source X" a real selection.
TREE = tuple(
    ProposalSpec(900020 + p, instrument, "202602", tuple(
        RunSpec(r, n_trains=100 + 20 * r, trains_per_sequence=100,
                **({"detector": "JUNGFRAU", "n_modules": 1, "frames_per_train": 1,
                    "frame_shape": (8, 8)} if (r + p) % 3 == 0 else {}))
        for r in range(1, 11)))
    for p, instrument in enumerate(("SPB", "FXE", "MID", "SPB", "HED")))
SOURCE_GLOB = "*/DET/JNGFR01:daqOutput"
PEER_SNIPPET = """
import json, sys, time
import extra_data
source, dirs = sys.argv[1], json.loads(sys.stdin.read())
t0 = time.perf_counter()
hits = []
for d in dirs:
    run = extra_data.RunDirectory(d)
    if source in run.all_sources:
        hits.append([d, len(run.train_ids)])
print(json.dumps({"seconds": time.perf_counter() - t0, "hits": hits}))
"""


def timed(call: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    """Seconds of each of *repeats* calls (after one untimed call) and the last result."""
    result = call()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - t0)
    return times, result


# -- 1. the 50-run tree against EXtra-data ---------------------------------------


def make_tree(root: Path) -> None:
    """Write the 50-run tree unless it is already there."""
    marker = root / ".complete"
    if not marker.exists():
        write_tree(root, spec=TREE)
        marker.touch()


def peer_pass(python: str, source: str, dirs: list[str], cold: bool) -> tuple[float, set] | None:
    """One EXtra-data pass over *dirs*: (seconds, {(dir, n_trains)}), maps removed first if cold."""
    if cold:
        for d in dirs:
            Path(d, "karabo_data_map.json").unlink(missing_ok=True)
    out = subprocess.run([python, "-c", PEER_SNIPPET, source], input=json.dumps(dirs),
                         capture_output=True, text=True)
    if out.returncode != 0:
        print(f"EXtra-data failed:\n{out.stderr[-2000:]}", file=sys.stderr)
        return None
    found = json.loads(out.stdout)
    return found["seconds"], {(os.path.realpath(d), n) for d, n in found["hits"]}


def bench_tree(args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    make_tree(args.data)
    print(f"tree ready in {time.perf_counter() - t0:.1f} s: {args.data}")
    url = str(Path(tempfile.mkdtemp(prefix="bench-query-")) / "tree.sqlite")
    init_catalog(url)
    with open_catalog(url) as store:
        summary = crawl(store, [args.data], CrawlOptions(settle=0, processes=args.jobs))
    print(f"crawled {summary.runs_new} runs, {summary.files_new} files")
    with Catalog(url, admin=True) as cat:
        source = str(cat.sources(source=SOURCE_GLOB)["source"].iloc[0])
        dirs = [str(p) for p in cat.runs()["path"]]
        times, hits = timed(lambda: cat.runs(source=source), args.tree_repeats)
    ours = float(np.median(times))
    answer = {(os.path.realpath(p), int(n)) for p, n in zip(hits["path"], hits["n_trains"])}
    with Catalog(url) as cat:
        visible, _ = timed(lambda: cat.runs(source=source), args.tree_repeats)
    print(f"source X = {source}: in {len(answer)} of {len(dirs)} runs")
    print(f"  Catalog.runs(source=X): median {ours * 1e3:.2f} ms (admin), "
          f"{np.median(visible) * 1e3:.2f} ms with visibility checks")
    if not args.peer_python:
        print("  EXtra-data comparison skipped: set --peer-python or $EXTRA_DATA_PEER_PYTHON")
        return
    for label, cold in (("JSON maps removed", True), ("warm JSON maps", False)):
        passes = [peer_pass(args.peer_python, source, dirs, cold) for _ in range(args.peer_repeats)]
        if any(p is None for p in passes):
            return
        theirs = float(np.median([p[0] for p in passes]))
        agree = all(p[1] == answer for p in passes)
        print(f"  EXtra-data, {label}: median {theirs * 1e3:.0f} ms over {len(dirs)} runs -> "
              f"{theirs / ours:,.0f}x slower than the catalogue "
              f"(answers {'agree' if agree else 'DIFFER'})")
    for d in dirs:
        Path(d, "karabo_data_map.json").unlink(missing_ok=True)


# -- 2. facility scale ------------------------------------------------------------


def query_cases(facility: Facility, repeats: int) -> dict[str, list[dict[str, Any]]]:
    """The five common queries, each with *repeats* parameter sets (same on every backend).

    Each parameter set is ``{"method": name, **kwargs}`` for a ``Catalog`` method.
    """
    rng = np.random.default_rng(facility.seed + 7)
    numbers = [n for n, _, _ in facility.proposals]
    instruments = [instr for _, instr, _ in facility.proposals]

    def device(instr: str) -> Any:
        return facility.pools[instr][int(rng.integers(200))]

    cases: dict[str, list[dict[str, Any]]] = {name: [] for name in (
        "runs by source glob", "runs by proposal", "runs by motor range",
        "keys of a source in a proposal", "runs by min_trains + sample glob")}
    for i in range(repeats):
        instr = instruments[int(rng.integers(len(instruments)))]
        dev = device(instr)
        glob = (f"{instr}_DET_*/DET/*CH0:xtdf" if i % 3 == 0
                else f"{instr}_*/{dev.kind}/{dev.name.rsplit('/', 1)[1]}")
        cases["runs by source glob"].append({"method": "runs", "source": glob})
        cases["runs by proposal"].append(
            {"method": "runs", "proposal": numbers[int(rng.integers(len(numbers)))]})
        low = round(float(rng.uniform(-50, 40)), 1)
        motor = facility.motors[instr]
        cases["runs by motor range"].append({"method": "runs", "run_values": [
            f"{motor} actualPosition >= {low}", f"{motor} actualPosition <= {low + 10}"]})
        at = int(rng.integers(len(numbers)))
        cases["keys of a source in a proposal"].append(
            {"method": "keys", "source": facility.pools[instruments[at]][0].name,
             "proposal": numbers[at]})
        cases["runs by min_trains + sample glob"].append(
            {"method": "runs", "min_trains": int(rng.integers(200, 5000)), "sample": "Lyso*"})
    return cases


@contextmanager
def capture_sql(engine: Any) -> Iterator[list[tuple[str, Any, float]]]:
    """Record (statement, parameters, seconds) of every statement run on *engine*."""
    from sqlalchemy import event

    found: list[tuple[str, Any, float]] = []
    started: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
              executemany: bool) -> None:
        found.append((statement, parameters, time.perf_counter() - started.pop(id(cursor))))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def plan_summary(engine: Any, statement: str, parameters: Any) -> str:
    """The tables and indexes a statement's plan uses, one short line."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            steps = [row[3] for row in cursor.fetchall()]
            return "; ".join(_sqlite_step(s) for s in steps if s.startswith(("SCAN", "SEARCH")))
        cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
        plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        return "; ".join(_pg_steps(plan[0]["Plan"]))
    finally:
        raw.close()


def _sqlite_step(detail: str) -> str:
    """'SEARCH f USING INDEX sqlite_autoindex_files_1 (run_id=?)' -> 'SEARCH f by sqlite_autoindex_files_1'."""
    words = detail.split()
    where = words[1]
    if "USING" not in words:
        return f"{words[0]} {where} (full)" if words[0] == "SCAN" else f"{words[0]} {where}"
    using = detail.split("USING", 1)[1].split("(")[0].strip()
    index = using.replace("COVERING INDEX", "").replace("INDEX", "").strip()
    return f"{words[0]} {where} by {index or using}"


def _pg_steps(node: dict[str, Any]) -> list[str]:
    steps = []
    kind = node["Node Type"]
    if "Index Name" in node:
        steps.append(f"{kind} {node['Index Name']}")
    elif kind == "Seq Scan":
        steps.append(f"Seq Scan {node['Relation Name']}")
    for child in node.get("Plans", []):
        steps += _pg_steps(child)
    return steps


def run_case(cat: Catalog, params: dict[str, Any]) -> Any:
    kwargs = dict(params)
    return getattr(cat, kwargs.pop("method"))(**kwargs)


def bench_backend(label: str, url: str, cases: dict[str, list[dict[str, Any]]]) -> None:
    """Print median and p95 latency, rows and plan of each query on one catalogue."""
    print(f"\n{label}: latency over {len(next(iter(cases.values())))} parameter sets "
          "(after one untimed call); 'visible': median of 5 with visibility checks on")
    print(f"  {'query':34} {'median':>8} {'p95':>8} {'rows':>7} {'visible':>8}")
    for name, params in cases.items():
        with Catalog(url, admin=True) as cat:
            run_case(cat, params[0])
            times, rows = [], []
            for p in params:
                t0 = time.perf_counter()
                rows.append(len(run_case(cat, p)))
                times.append(time.perf_counter() - t0)
            with capture_sql(cat._store.engine) as statements:
                run_case(cat, params[0])
            plans = [(seconds, " ".join(statement.split())[:70],
                      plan_summary(cat._store.engine, statement, parameters))
                     for statement, parameters, seconds in statements
                     if statement.lstrip().upper().startswith(("SELECT", "WITH"))]
        # A can_read saying yes: every proposal is visible, but the check runs.
        with Catalog(url, can_read=lambda directory: True) as cat:
            run_case(cat, params[0])
            visible = [_seconds(lambda: run_case(cat, p)) for p in params[:5]]
        median, p95 = np.median(times), np.percentile(times, 95)
        print(f"  {name:34} {median * 1e3:6.0f}ms {p95 * 1e3:6.0f}ms {int(np.median(rows)):7d} "
              f"{np.median(visible) * 1e3:6.0f}ms  {'ok' if p95 < 1 else 'OVER 1 s'}")
        for seconds, statement, plan in plans:
            print(f"      {seconds * 1e3:7.1f} ms to first row: {statement}...")
            print(f"                 plan: {plan}")


def _seconds(call: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


@contextmanager
def pg_database(server: str) -> Iterator[str | None]:
    """URL of a throwaway PostgreSQL database (None if the server does not answer)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    url = make_url(server)
    admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"extra_catalog_bench_{secrets.token_hex(4)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        print(f"PostgreSQL skipped: {url.render_as_string()} does not answer ({exc.orig})")
        admin.dispose()
        yield None
        return
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def catalogue_size(url: str) -> int:
    """Bytes of the catalogue: SQLite files, or the PostgreSQL database."""
    from sqlalchemy import text

    from extra_catalog.catalog.engine import sqlite_file

    path = sqlite_file(url)
    if path is not None:
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with open_catalog(url) as store, store.engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_database_size(current_database())"))
                   .scalar_one())


def bench_scale(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-query-scale-"))
    sqlite_url = f"sqlite:///{work / 'facility.sqlite'}"
    with pg_database(args.pg_url) if args.pg_url else _no_pg() as pg_url:
        urls = {"SQLite": sqlite_url, **({"PostgreSQL": pg_url} if pg_url else {})}
        for url in urls.values():
            init_catalog(url)
        facility = Facility(args.runs)
        print(f"\nfilling {', '.join(urls)} with {args.runs:,} synthetic runs in "
              f"{len(facility.proposals):,} proposals")
        stats = fill_catalogs(list(urls.values()), facility, statistics=not args.no_statistics)
        total = sum(stats.rows.values())
        print("  rows: " + ", ".join(f"{t} {n:,}" for t, n in stats.rows.items()))
        print(f"  making the rows: {stats.generate_seconds:.0f} s")
        for label, url in urls.items():
            seconds = stats.write_seconds[url]
            analyse = stats.statistics_seconds.get(url)
            print(f"  {label}: written in {seconds:.0f} s ({total / seconds:,.0f} rows/s), "
                  f"{catalogue_size(url) / 1e9:.2f} GB"
                  + ("" if analyse is None else
                     f"; planner statistics refreshed in {analyse:.2f} s"))
        cases = query_cases(facility, args.repeats)
        for label, url in urls.items():
            bench_backend(label, url, cases)
    if not args.keep:
        for path in work.iterdir():
            path.unlink()
        work.rmdir()
    else:
        print(f"SQLite catalogue kept: {sqlite_url}")


@contextmanager
def _no_pg() -> Iterator[None]:
    yield None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(tempfile.gettempdir()) / "extra_catalog_bench_query")
    parser.add_argument("--runs", type=int, default=100_000,
                        help="synthetic runs at facility scale (default 100000)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--peer-repeats", type=int, default=3)
    parser.add_argument("--tree-repeats", type=int, default=300,
                        help="calls timed on the 50-run tree (sub-millisecond: a "
                             "median of many is steady on a busy machine)")
    parser.add_argument("-j", "--jobs", type=int, default=None)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL,
                        help="PostgreSQL server for a throwaway database")
    parser.add_argument("--no-pg", dest="pg_url", action="store_const", const=None)
    parser.add_argument("--peer-python", default=os.environ.get("EXTRA_DATA_PEER_PYTHON"))
    parser.add_argument("--skip-tree", action="store_true")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite facility catalogue")
    parser.add_argument("--no-statistics", action="store_true",
                        help="leave the SQLite catalogue without planner statistics (as "
                             "before crawls refreshed them)")
    args = parser.parse_args()
    if not args.skip_tree:
        bench_tree(args)
    if not args.skip_scale:
        bench_scale(args)


if __name__ == "__main__":
    main()
