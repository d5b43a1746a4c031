"""The catalogue stays under 5 KB per data file on a realistic large run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from extra_catalog.catalog import RunInfo, replace_run

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_catalog_size.py"


@pytest.mark.slow
def test_realistic_run_costs_under_5kb_per_file(catalog):
    pytest.importorskip("extra_catalog.fileaccess.codec")
    spec = importlib.util.spec_from_file_location("bench_catalog_size", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    path = "/exp/SPB/202601/p900001/raw/r0001"
    files = bench.realistic_run(path)
    before = bench.catalogue_bytes(catalog)
    replace_run(catalog, RunInfo("SPB", "202601", 900001, 1, "raw", path), files)
    per_file = (bench.catalogue_bytes(catalog) - before) / len(files)
    assert len(files) == 500
    assert per_file < 5000
