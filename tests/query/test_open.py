"""From a query result to data: Catalog.open_run and Catalog.open_runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from extra_catalog.query import Catalog, QueryError

pytest.importorskip("extra_catalog.reader.collection")


def _same(a, b) -> None:
    assert a.all_sources == b.all_sources
    np.testing.assert_array_equal(a.train_ids, b.train_ids)


def test_open_run_gives_what_open_run_gives(cat, filled_url: str, tree_root: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from extra_catalog.reader.opening import open_run

    monkeypatch.setenv("EXTRA_DATA_DATA_ROOT", str(tree_root))
    for proposal, run in [(900001, 2), (900002, 2)]:
        _same(cat.open_run(proposal, run), open_run(proposal, run, catalog=filled_url))
    opened = list(cat.open_runs(cat.runs(source="*AGIPD*")))  # raw + proc: one run
    assert len(opened) == 1
    _same(opened[0], open_run(900001, 2, catalog=filled_url))
    assert any("AGIPD" in s for s in opened[0].all_sources)


def test_hidden_or_unknown_runs_are_not_opened(filled_url: str) -> None:
    with Catalog(filled_url, can_read=lambda d: not d.endswith("p900002")) as cat:
        with pytest.raises(QueryError, match="run 2 of proposal 900002"):
            cat.open_run(900002, 2)
        with pytest.raises(QueryError, match="not in catalogue"):
            cat.open_run(900001, 99)
