"""write_run, grow_file, append_sequence and the run-level faults."""

from __future__ import annotations

import filecmp
import os
import re
import stat

import h5py
import numpy as np
import pytest

from extra_catalog.testing import (MockDataError, Motor, XGM, append_sequence,
                                   default_aggregators, grow_file, write_run)

NAME_RE = re.compile(r"^(RAW|CORR)-R(\d{4})-(\w+)-S(\d{5})\.h5$")


def _by_aggregator(paths):
    found = {}
    for p in paths:
        m = NAME_RE.match(p.name)
        assert m, p.name
        found.setdefault(m.group(3), []).append(p)
    return found


def _tids(path):
    with h5py.File(path, "r") as f:
        return f["INDEX/trainId"][:].tolist()


def _sources(path):
    with h5py.File(path, "r") as f:
        return {s.decode() for s in f["METADATA/dataSources/dataSourceId"][:] if s}


@pytest.fixture(scope="module")
def agipd_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "r0007"
    paths = write_run(out, run=7, detector="AGIPD1M", n_modules=3, frames_per_train=2,
                      frame_shape=(4, 4), n_trains=60, trains_per_sequence=20, processes=1)
    return out, paths


def test_file_names_and_sequences(agipd_run):
    out, paths = agipd_run
    assert paths == sorted(out.glob("*.h5"))
    aggs = _by_aggregator(paths)
    assert set(aggs) == {"DA01", "DA02", "AGIPD00", "AGIPD01", "AGIPD02"}
    assert all(p.name.startswith("RAW-R0007-") for p in paths)
    for agg, files in aggs.items():
        seqs = [int(NAME_RE.match(p.name).group(4)) for p in files]
        assert seqs == list(range(len(seqs)))
        # every aggregator covers every train exactly once, in order
        assert sum((_tids(p) for p in files), []) == list(range(10000, 10060)), agg


def test_aggregators_break_at_different_trains(agipd_run):
    _, paths = agipd_run
    aggs = _by_aggregator(paths)
    first_lengths = {agg: len(_tids(files[0])) for agg, files in aggs.items()}
    # aggregator k (in order DA01, DA02, AGIPD00...) breaks (7k % 5) trains early
    assert first_lengths == {"DA01": 20, "DA02": 18, "AGIPD00": 16, "AGIPD01": 19,
                             "AGIPD02": 17}


def test_detector_module_sources(agipd_run):
    _, paths = agipd_run
    mod1 = _by_aggregator(paths)["AGIPD01"][0]
    assert _sources(mod1) == {f"INSTRUMENT/SPB_DET_AGIPD1M-1/DET/1CH0:xtdf/{g}"
                              for g in ("image", "header", "detector", "trailer")}
    with h5py.File(mod1, "r") as f:
        assert f["METADATA/runNumber"][0] == 7
        assert f["METADATA/sequenceNumber"][0] == 0


def test_parallel_and_serial_give_identical_files(agipd_run, tmp_path):
    out, paths = agipd_run
    other = write_run(tmp_path / "r0007", run=7, detector="AGIPD1M", n_modules=3,
                      frames_per_train=2, frame_shape=(4, 4), n_trains=60,
                      trains_per_sequence=20, processes=2)
    assert [p.name for p in other] == [p.name for p in paths]
    assert all(filecmp.cmp(a, b, shallow=False) for a, b in zip(paths, other))


def test_proc_run_uses_corr_names(tmp_path):
    paths = write_run(tmp_path / "r0001", data="proc", detector="JUNGFRAU", n_modules=2,
                      frame_shape=(4, 8), n_trains=5)
    assert [p.name for p in paths] == ["CORR-R0001-JNGFR01-S00000.h5",
                                       "CORR-R0001-JNGFR02-S00000.h5"]
    assert _sources(paths[0]) == {"INSTRUMENT/SPB_IRDA_JF4M/CORR/JNGFR01:output/data"}
    with h5py.File(paths[0], "r") as f:
        assert f["INSTRUMENT/SPB_IRDA_JF4M/CORR/JNGFR01:output/data/adc"].dtype == np.float32


def test_bad_run_parameters(tmp_path):
    with pytest.raises(MockDataError, match="no files"):
        write_run(tmp_path / "a", data="proc")
    with pytest.raises(MockDataError, match="detector 'PNCCD'"):
        write_run(tmp_path / "b", detector="PNCCD")
    with pytest.raises(MockDataError, match="auxiliary"):
        write_run(tmp_path / "c", auxiliary=True, format_version="1.2")


def test_medium_preset_counts(tmp_path):
    aggs = default_aggregators(n_aggregators=2, n_control_sources=20, n_keys=5)
    paths = write_run(tmp_path / "r0001", aggregators=aggs, detector="LPD1M", n_modules=2,
                      frames_per_train=2, frame_shape=(4, 4), n_trains=120,
                      trains_per_sequence={"DA01": 60, "DA02": 60, "LPD00": 50, "LPD01": 50})
    by_agg = _by_aggregator(paths)
    assert {a: len(f) for a, f in by_agg.items()} == {"DA01": 2, "DA02": 3, "LPD00": 3,
                                                       "LPD01": 3}
    da01 = _sources(by_agg["DA01"][0])
    control = {s for s in da01 if s.startswith("CONTROL/")}
    assert len(control) == 4 + 20  # 2 XGMs, camera, run-only device + generic ones
    with h5py.File(by_agg["DA02"][0], "r") as f:
        keys = []
        f["CONTROL/SPB_DA2_CTRL/DEV/D000"].visit(keys.append)
        assert sorted(k for k in keys if k.endswith("/value")) == [
            "status/value", "value0/value", "value1/value", "value2/value", "value3/value"]


def test_auxiliary_run(tmp_path):
    paths = write_run(tmp_path / "r0001", detector="DSSC1M", n_modules=1, frames_per_train=1,
                      frame_shape=(2, 2), n_trains=10, auxiliary=True)
    by_agg = _by_aggregator(paths)
    with h5py.File(by_agg["DA01"][0], "r") as f:
        assert [s.decode() for s in f["METADATA/auxiliarySources/ERRATA"][:]] == [
            "ERRATA/TRAINS_OUTSIDE_BUFFER_RANGE/event"]
    with h5py.File(by_agg["DSSC00"][0], "r") as f:
        assert [s.decode() for s in f["METADATA/auxiliarySources/REDUCTION"][:]] == [
            "REDUCTION/PULSE_REDUCTION/SCS_DET_DSSC1M-1/DET/0CH0:xtdf/image"]


def test_legacy_names_in_run(tmp_path):
    legacy = {"SPB_DET_AGIPD1M-1/DET/OLD0CH0:xtdf": "SPB_DET_AGIPD1M-1/DET/0CH0:xtdf"}
    paths = write_run(tmp_path / "r0001", detector="AGIPD1M", n_modules=1, frames_per_train=1,
                      frame_shape=(2, 2), n_trains=5, legacy_names=legacy)
    mod = _by_aggregator(paths)["AGIPD00"][0]
    with h5py.File(mod, "r") as f:
        assert isinstance(f.get("INSTRUMENT/SPB_DET_AGIPD1M-1/DET/OLD0CH0:xtdf", getlink=True),
                          h5py.SoftLink)
    assert not any("OLD0CH0" in s for s in _sources(_by_aggregator(paths)["DA01"][0]))


def test_file_fault_hits_first_file_of_first_aggregator(tmp_path):
    paths = write_run(tmp_path / "r0001", n_trains=30, trains_per_sequence=10,
                      faults=["bogus_train_id"])
    by_agg = _by_aggregator(paths)
    assert _tids(by_agg["DA01"][0])[5] == 2**64 - 1
    assert 2**64 - 1 not in sum((_tids(p) for p in paths if p != by_agg["DA01"][0]), [])


def test_overlapping_sequences(tmp_path):
    paths = write_run(tmp_path / "r0001", n_trains=30, trains_per_sequence=10,
                      faults=["overlapping_sequences"])
    s0, s1 = _by_aggregator(paths)["DA01"][:2]
    assert set(_tids(s0)) & set(_tids(s1)) == set(range(10005, 10010))


def test_source_in_two_aggregators(tmp_path):
    paths = write_run(tmp_path / "r0001", n_trains=5, faults=["source_in_two_aggregators"])
    by_agg = _by_aggregator(paths)
    assert "CONTROL/SA1_XTD2_XGM/DOOCS/MAIN" in _sources(by_agg["DA01"][0])
    assert "CONTROL/SA1_XTD2_XGM/DOOCS/MAIN" in _sources(by_agg["DA02"][0])


def test_hanging_file_is_a_fifo_never_opened(tmp_path):
    out = tmp_path / "r0003"
    paths = write_run(out, run=3, n_trains=5, faults=["hanging_file"])
    fifo = out / "RAW-R0003-DA99-S00000.h5"
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # stat does not open it
    assert fifo not in paths


def test_still_writing_then_grow_and_append(tmp_path):
    out = tmp_path / "r0001"
    aggs = {"DA01": [Motor("SPB_M/MOTOR/A")], "DA02": [XGM("SA1_XTD2_XGM/DOOCS/MAIN")]}
    paths = write_run(out, aggregators=aggs, n_trains=40, trains_per_sequence=15,
                      faults=["still_writing"])
    by_agg = _by_aggregator(paths)
    assert max(_tids(by_agg["DA01"][-1])) == 10019  # only 20 of 40 trains so far
    last = by_agg["DA01"][-1]
    inode, size = last.stat().st_ino, last.stat().st_size
    grow_file(last, 5)
    assert last.stat().st_ino == inode and last.stat().st_size > size
    assert _tids(last)[-5:] == list(range(10020, 10025))
    with h5py.File(last, "r") as f:  # grown data follows the formulas
        assert f["CONTROL/SPB_M/MOTOR/A/actualPosition/value"].shape == (len(_tids(last)),)
    new = append_sequence(out, n_trains=4)
    assert [p.name for p in new] == ["RAW-R0001-DA01-S00002.h5", "RAW-R0001-DA02-S00002.h5"]
    assert _tids(new[0]) == list(range(10025, 10029))
    assert _tids(new[1]) == list(range(10020, 10024))
    with h5py.File(new[0], "r") as f:
        assert f["METADATA/sequenceNumber"][0] == 2
        # RUN values are still those of the run's first train
        assert f["RUN/SPB_M/MOTOR/A/state/value"][0] == b"MOVING"
