"""DeadlinePool: one slow or crashing file must never stop the others."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _pool_funcs import square_or_fail, unpicklable_error  # noqa: E402

from extra_catalog.index.pool import DeadlinePool  # noqa: E402


def _by_item(results):
    return {r.item: r for r in results}


def test_results_for_every_item_with_errors_reported():
    with DeadlinePool(square_or_fail, processes=2, timeout=30) as pool:
        results = _by_item(pool.map_unordered([1, 2, "boom", 3, 4]))
    assert {k: r.value for k, r in results.items() if k != "boom"} == {1: 1, 2: 4, 3: 9, 4: 16}
    assert isinstance(results["boom"].error, ValueError)
    assert "bad item boom" in str(results["boom"].error)


def test_a_task_past_its_deadline_is_killed_and_the_rest_complete():
    t0 = time.monotonic()
    with DeadlinePool(square_or_fail, processes=1, timeout=1.5) as pool:
        results = _by_item(pool.map_unordered(["sleep", 5, 6]))
    assert time.monotonic() - t0 < 30
    assert results["sleep"].timed_out
    assert results["sleep"].value is None
    assert results[5].value == 25 and results[6].value == 36


def test_a_worker_that_dies_is_replaced():
    with DeadlinePool(square_or_fail, processes=1, timeout=30) as pool:
        results = _by_item(pool.map_unordered(["die", 7]))
    assert "died" in str(results["die"].error)
    assert results[7].value == 49


def test_unpicklable_exception_arrives_as_text():
    with DeadlinePool(unpicklable_error, processes=1, timeout=30) as pool:
        (result,) = pool.map_unordered(["x"])
    assert isinstance(result.error, RuntimeError)
    assert "local failure x" in str(result.error)


def test_no_items_no_workers():
    pool = DeadlinePool(square_or_fail, processes=2)
    assert list(pool.map_unordered([])) == []
    assert pool._workers == []


def test_processes_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        DeadlinePool(square_or_fail, processes=0)


_ORPHAN_PARENT = """
import sys, time
sys.path.insert(0, sys.argv[1])
from _pool_funcs import square_or_fail
from extra_catalog.index.pool import DeadlinePool

pool = DeadlinePool(square_or_fail, processes=2, timeout=60)
list(pool.map_unordered([1, 2]))
print(" ".join(str(w.proc.pid) for w in pool._workers), flush=True)
time.sleep(600)
"""


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1].startswith("Z")  # exited, not yet reaped
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_idle_workers_exit_when_the_parent_is_killed():
    import signal
    import subprocess

    parent = subprocess.Popen([sys.executable, "-c", _ORPHAN_PARENT, str(Path(__file__).parent)],
                              stdout=subprocess.PIPE, text=True)
    try:
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(workers) == 2
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 30  # safety net; they notice within about a second
    while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in workers)
