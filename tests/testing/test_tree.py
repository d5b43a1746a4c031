"""write_tree and write_demo_tree: facility layout and what the demo covers."""

from __future__ import annotations

import h5py
import pytest

from extra_catalog.testing import (FORMAT_VERSIONS, MockDataError, ProposalSpec, RunSpec,
                                   write_demo_tree, write_tree)


def _version(path):
    with h5py.File(path, "r") as f:
        return f["METADATA/dataFormatVersion"][0].decode() if "METADATA/dataFormatVersion" in f \
            else "0.5"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("exp")
    return root, write_demo_tree(root)


def test_demo_tree_layout(demo):
    root, run_dirs = demo
    rel = [d.relative_to(root).as_posix() for d in run_dirs]
    assert "SPB/202601/p900001/raw/r0002" in rel and "SPB/202601/p900001/proc/r0002" in rel
    assert {r.split("/")[0] for r in rel} == {"SPB", "FXE"}
    assert len({r.split("/")[2] for r in rel}) == 3
    assert sum("/raw/" in r for r in rel) == 8
    for prop in root.glob("*/*/p*"):
        assert (prop / "usr").is_dir() and (prop / "scratch").is_dir()


def test_demo_tree_covers_versions_detectors_and_suspect_trains(demo):
    root, run_dirs = demo
    files = [f for d in run_dirs for f in sorted(d.glob("*.h5"))]
    assert {_version(f) for f in files} == set(FORMAT_VERSIONS)
    names = {f.name.split("-")[2] for f in files}
    assert {"AGIPD00", "AGIPD03", "JNGFR01", "LPD01", "DA01"} <= names
    proc = [f for f in files if "/proc/" in f.as_posix()]
    assert proc and all(f.name.startswith("CORR-") for f in proc)
    suspect = 0
    for f in files:
        with h5py.File(f, "r") as h:
            if "INDEX/flag" in h:
                flag = h["INDEX/flag"][:]
                suspect += int((flag == 1).sum() if _version(f) == "1.1" else (flag == 0).sum())
    assert suspect > 0


def test_train_ids_do_not_repeat_across_runs(demo):
    _, run_dirs = demo
    seen = {}
    for d in run_dirs:
        if "/proc/" in d.as_posix():
            continue
        with h5py.File(sorted(d.glob("*DA01*.h5"))[0] if list(d.glob("*DA01*"))
                       else sorted(d.glob("*.h5"))[0], "r") as f:
            tids = set(f["INDEX/trainId"][:].tolist())
        for other, other_tids in seen.items():
            assert not tids & other_tids, (d, other)
        seen[d] = tids


def test_tree_from_dict_spec(tmp_path):
    spec = [{"proposal": 700123, "instrument": "MID", "cycle": "202502",
             "runs": [{"run": 12, "format_version": "1.0", "n_trains": 5}]}]
    dirs = write_tree(tmp_path, spec=spec)
    assert [d.relative_to(tmp_path).as_posix() for d in dirs] == ["MID/202502/p700123/raw/r0012"]
    files = sorted(dirs[0].glob("*.h5"))
    assert [f.name for f in files] == ["RAW-R0012-DA01-S00000.h5", "RAW-R0012-DA02-S00000.h5"]
    with h5py.File(files[0], "r") as f:
        assert f["METADATA/proposalNumber"][0] == 700123


def test_default_tree_and_bad_spec(tmp_path):
    dirs = write_tree(tmp_path / "a")
    assert len(dirs) == 5  # two proposals x two runs, one with its proc run
    with pytest.raises(MockDataError, match="unknown run spec"):
        write_tree(tmp_path / "b", spec=[{"proposal": 1, "runs": [{"run": 1, "colour": 3}]}])
    with pytest.raises(MockDataError, match="proc needs a detector"):
        write_tree(tmp_path / "c", spec=[ProposalSpec(1, runs=(RunSpec(1, proc=True),))])
