"""Karabo-bridge streaming throughput on loopback, next to EXtra-data's server.

Run: ``python benchmarks/bench_stream.py [--trains N] [--peer-python PATH]``

Writes a run (4 uncompressed AGIPD modules of 16 frames of 256x128 pixels,
8 MiB of detector data per train, plus the slow data aggregators) and
streams it with ``karabo-bridge-serve-files`` to the real
``karabo_bridge.Client`` in this process, over 127.0.0.1:

- ``detector``: the detector modules' ``image.*`` keys (large messages);
- ``slow``: the two XGMs (control values and 1000-sample traces).

Throughput counts from the first train received to the last (server start-up
and opening the run are reported separately), in trains/s and MB/s of
message payload (array bytes); the best of ``--repeat`` streams, since a
shared machine is noisy. With ``--peer-python`` (or
``$EXTRA_DATA_PEER_PYTHON``) pointing at a venv with EXtra-data, karabo-bridge
and psutil, EXtra-data's ``karabo-bridge-serve-files`` streams the same run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from karabo_bridge import Client

from extra_catalog.testing import XTDFModule, default_aggregators, write_run

#: --source and --key of each scenario.
SELECTIONS = {"detector": ("*/DET/*", "image.*"), "slow": ("*XGM*", "*")}


def write_bench_run(run_dir: Path, n_trains: int) -> None:
    aggs = default_aggregators()
    for m in range(4):
        aggs[f"AGIPD{m:02d}"] = [XTDFModule(f"SPB_DET_AGIPD1M-1/DET/{m}CH0", frames_per_train=16,
                                            frame_shape=(256, 128), compression=None)]
    write_run(run_dir, n_trains=n_trains, aggregators=aggs, trains_per_sequence=50)


def stream(command: list[str], env: dict[str, str], n_trains: int) -> dict[str, float]:
    """Start a server command, receive every train, return the timings."""
    t0 = time.perf_counter()
    server = subprocess.Popen(command, env=env, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
    try:
        endpoint = ""
        for line in server.stdout:
            if "Streamer started on:" in line:
                endpoint = "tcp://127.0.0.1:" + line.strip().rsplit(":", 1)[1]
                break
        if not endpoint:
            raise RuntimeError(f"{command[0]} did not start")
        client = Client(endpoint, timeout=120)
        data, _ = client.next()
        t_first = time.perf_counter()
        nbytes = 0
        for i in range(n_trains - 1):
            data, _ = client.next()
            nbytes += sum(v.nbytes for src in data.values() for v in src.values()
                          if hasattr(v, "nbytes"))
        t_last = time.perf_counter()
        server.wait(timeout=120)
    finally:
        if server.poll() is None:
            server.kill()
    seconds = t_last - t_first
    return {"startup": t_first - t0, "trains_s": (n_trains - 1) / seconds,
            "mb_s": nbytes / seconds / 1e6, "mb_train": nbytes / (n_trains - 1) / 1e6}


def _count_trains(run_dir: Path) -> int:
    from extra_catalog import RunDirectory

    with RunDirectory(run_dir, catalog=None) as run:
        return len(run.train_ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trains", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3, help="Best of this many streams.")
    parser.add_argument("--run-dir", type=Path,
                        help="Stream this existing run directory instead of writing one.")
    parser.add_argument("--peer-python", default=os.environ.get("EXTRA_DATA_PEER_PYTHON"))
    args = parser.parse_args()
    ours_bin = Path(sys.executable).parent / "karabo-bridge-serve-files"
    servers = {"extra_catalog": ours_bin}
    if args.peer_python:
        servers["EXtra-data"] = Path(args.peer_python).parent / "karabo-bridge-serve-files"
    else:
        print("EXtra-data comparison skipped: set --peer-python or $EXTRA_DATA_PEER_PYTHON")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONWARNINGS": "ignore"}
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = args.run_dir or Path(tmp) / "raw" / "r0001"
        if args.run_dir is None:
            write_bench_run(run_dir, args.trains)
        n_trains = _count_trains(run_dir)
        size = sum(f.stat().st_size for f in run_dir.iterdir())
        print(f"run: {n_trains} trains, {size / 1e6:.0f} MB on disk")
        for label, (source, key) in SELECTIONS.items():
            results = {}
            for name, binary in servers.items():
                command = [str(binary), str(run_dir), "0", "--source", source, "--key", key]
                runs = [stream(command, env, n_trains) for _ in range(args.repeat)]
                results[name] = r = max(runs, key=lambda x: x["trains_s"])
                print(f"{label:9s} {name:14s} {r['trains_s']:8.1f} trains/s "
                      f"{r['mb_s']:8.1f} MB/s  ({r['mb_train']:.3f} MB/train, "
                      f"start-up {r['startup']:.2f} s)")
            if len(results) == 2:
                ratio = results["extra_catalog"]["trains_s"] / results["EXtra-data"]["trains_s"]
                print(f"{label:9s} extra_catalog / EXtra-data: {ratio:.2f}x")


if __name__ == "__main__":
    main()
