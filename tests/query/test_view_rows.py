"""Rows of the views for the matching runs: the same whether the run ids go as a list or a subquery."""

from __future__ import annotations

import pytest

from extra_catalog.query import catalog as catalog_module


@pytest.mark.parametrize("method, kwargs", [
    ("keys", {"source": "SPB_IRU_MOTORS/MOTOR/X", "proposal": 900001}),
    ("sources", {"min_trains": 10}),
    ("files", {"source": "*AGIPD*"}),
    ("run_values", {"key": "actualPosition", "run": [1, 2]}),
    ("problems", {}),
])
def test_listed_and_subquery_run_ids_agree(cat, monkeypatch, method: str, kwargs: dict) -> None:
    listed = getattr(cat, method)(**kwargs)
    monkeypatch.setattr(catalog_module, "_LISTED_RUNS", 0)  # always the subquery
    assert getattr(cat, method)(**kwargs).equals(listed)
    assert not listed.empty


def test_no_filter_reads_every_run(cat) -> None:
    everything = cat.sources()
    assert set(everything["run_id"]) == set(cat.sql("SELECT run_id FROM runs")["run_id"])
