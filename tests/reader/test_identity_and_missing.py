"""Run identity of a collection, and the missing-data summary and plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from extra_catalog import MultiRunError
from extra_catalog.reader.identity import RunIdentity
from extra_catalog.reader.missing import missing_data

XGM = "SA1_XTD2_XGM/DOOCS/MAIN"
AGIPD = "SPB_DET_AGIPD1M-1/DET/0CH0:xtdf"


@pytest.fixture(scope="module")
def proposal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from extra_catalog.testing import write_run

    root = tmp_path_factory.mktemp("identity") / "p900003"
    write_run(root / "raw/r0001", proposal=900003, run=1, n_trains=10, n_control_sources=1,
              detector="AGIPD1M", n_modules=1, frame_shape=(2, 2))
    write_run(root / "proc/r0001", proposal=900003, run=1, data="proc", n_trains=10,
              detector="AGIPD1M", n_modules=1, frame_shape=(2, 2))
    write_run(root / "raw/r0002", proposal=900003, run=2, n_trains=6, first_train_id=10010,
              n_control_sources=1)
    write_run(root / "raw/r0003", proposal=900003, run=3, n_trains=4, n_control_sources=1,
              format_version="0.5")
    return root


def _open(proposal: Path, rel: str):
    from extra_catalog import RunDirectory

    return RunDirectory(proposal / rel)


def test_a_run_knows_its_proposal_run_and_folder(proposal: Path) -> None:
    run = _open(proposal, "raw/r0001")
    assert run.run_identity == RunIdentity(900003, 1, "raw")
    assert run.run_identity.proposal == 900003
    assert _open(proposal, "proc/r0001").run_identities == (RunIdentity(900003, 1, "proc"),)
    # Format 0.5 has no METADATA numbers: the run comes from the file names.
    assert _open(proposal, "raw/r0003").run_identity == RunIdentity(None, 3, "raw")


def test_unions_keep_every_run(proposal: Path) -> None:
    both = _open(proposal, "raw/r0001").select("*XGM*") | _open(proposal, "raw/r0002")
    assert both.run_identities == (RunIdentity(900003, 1, "raw"), RunIdentity(900003, 2, "raw"))
    with pytest.raises(MultiRunError):
        both.run_identity
    # Sources taken from one run only (run 1 gave only its XGM) name that run.
    assert both.select("*DA1*").run_identities == (RunIdentity(900003, 2, "raw"),)


def test_raw_and_proc_are_told_apart(proposal: Path) -> None:
    raw, proc = _open(proposal, "raw/r0001"), _open(proposal, "proc/r0001")
    combined = raw.deselect("*AGIPD*") | proc
    assert {r.data for r in combined.run_identities} == {"raw", "proc"}


def test_missing_data_lists_incomplete_sources(proposal: Path) -> None:
    run = (_open(proposal, "raw/r0001").select([XGM, AGIPD])
           | _open(proposal, "raw/r0002").select(XGM)).with_aliases({"xgm": XGM})
    found = missing_data(run)
    assert list(found) == [AGIPD]  # the XGM has all 16 trains
    present, pct = found[AGIPD]
    assert pct == 62.5 and present.tolist() == [True] * 10 + [False] * 6
    groups = missing_data(run, min_saved_pct=100, expand_instrument=True)
    assert list(groups)[0] == "xgm"  # 100% saved; labelled with its alias
    assert f"{AGIPD} image.*" in groups
    assert missing_data(run, min_saved_pct=50) == {}


def test_plot_missing_data(proposal: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    both = (_open(proposal, "raw/r0001").select([XGM, AGIPD])
            | _open(proposal, "raw/r0002").select(XGM))
    ax = both.plot_missing_data()
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"{AGIPD} (62.50%)"]
    assert ax.get_title() == "Sources with less than 95% of trains saved"
    assert ax.get_xlabel() == "Train ID index"
    ax = _open(proposal, "raw/r0002").select(XGM).plot_missing_data(min_saved_pct=100)
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"{XGM} (100.00%)"]
    assert ax.get_title() == "Sources with less than 100% of trains saved in p900003, run 2"
    plt.close("all")
