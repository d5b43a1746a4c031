"""Each file-level fault does exactly what its FAULTS description says."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from extra_catalog.testing import (FAULTS, FILE_FAULTS, RUN_FAULTS, XGM, MockDataError, Motor,
                                   write_file)

XGM_NAME = "SA1_XTD2_XGM/DOOCS/MAIN"
MOTOR = "SPB_IRU_MOTORS/MOTOR/X"
N = 8
I = N // 2
TRAINS = list(range(10000, 10000 + N))


def _write(tmp_path, fault, **kwargs):
    return write_file(tmp_path / f"{fault}.h5", [Motor(MOTOR), XGM(XGM_NAME)], n_trains=N,
                      faults=[fault], **kwargs)


def test_every_fault_is_described_and_classified():
    assert set(FAULTS) == set(FILE_FAULTS) | set(RUN_FAULTS)
    assert not set(FILE_FAULTS) & set(RUN_FAULTS)
    assert len(FAULTS) == 20
    assert all(len(text) > 40 for text in FAULTS.values())


def test_run_fault_refused_by_write_file(tmp_path):
    with pytest.raises(MockDataError, match="still_writing"):
        write_file(tmp_path / "f.h5", [Motor(MOTOR)], faults=["still_writing"])


def test_train_ids_not_increasing(tmp_path):
    with h5py.File(_write(tmp_path, "train_ids_not_increasing"), "r") as f:
        tids = f["INDEX/trainId"][:]
        expect = TRAINS.copy()
        expect[I - 1], expect[I] = expect[I], expect[I - 1]
        assert tids.tolist() == expect
        # data follows the stored IDs
        assert f[f"INSTRUMENT/{XGM_NAME}:output/data/trainId"][:].tolist() == expect


def test_bogus_train_id(tmp_path):
    with h5py.File(_write(tmp_path, "bogus_train_id"), "r") as f:
        tids = f["INDEX/trainId"][:]
        assert tids.dtype == np.uint64 and tids[I] == 2**64 - 1
        assert np.delete(tids, I).tolist() == np.delete(TRAINS, I).tolist()


def test_zero_train_ids(tmp_path):
    with h5py.File(_write(tmp_path, "zero_train_ids", pad_train_ids=2), "r") as f:
        tids = f["INDEX/trainId"][:]
        assert tids[I] == 0 and tids[-1] == 0 and tids[-3] == TRAINS[-1]


@pytest.mark.parametrize("fault,length", [("index_short", N - 1), ("index_long", N + 2 + 2)])
def test_index_length_faults(tmp_path, fault, length):
    with h5py.File(_write(tmp_path, fault, pad_train_ids=2), "r") as f:
        assert f["INDEX/trainId"].shape == (N + 2,)
        assert f[f"INDEX/{MOTOR}/count"].shape == (length,)
        assert f[f"INDEX/{XGM_NAME}:output/data/first"].shape == (length,)
        if fault == "index_long":
            assert f[f"INDEX/{MOTOR}/count"][N:].tolist() == [0, 0, 0, 0]


def test_index_past_end_hits_first_instrument_group(tmp_path):
    with h5py.File(_write(tmp_path, "index_past_end"), "r") as f:
        grp = f[f"INDEX/{XGM_NAME}:output/data"]
        first, count = grp["first"][:], grp["count"][:]
        n_data = f[f"INSTRUMENT/{XGM_NAME}:output/data/intensityTD"].shape[0]
        assert first[-1] + count[-1] == n_data + 5
        assert f[f"INDEX/{MOTOR}/count"][:].tolist() == [1] * N


def test_index_gaps(tmp_path):
    with h5py.File(_write(tmp_path, "index_gaps"), "r") as f:
        grp = f[f"INDEX/{XGM_NAME}:output/data"]
        first, count = grp["first"][:], grp["count"][:]
        assert count[I] == 0
        assert first[I + 1] - (first[I] + count[I]) == 1  # one orphan entry
        assert all(first[j + 1] == first[j] + count[j] for j in range(N - 1) if j != I)


def test_index_overlaps(tmp_path):
    with h5py.File(_write(tmp_path, "index_overlaps"), "r") as f:
        grp = f[f"INDEX/{XGM_NAME}:output/data"]
        first, count = grp["first"][:], grp["count"][:]
        assert first[I] == first[I - 1] + count[I - 1] - 1
        assert count[I] == 2 and first[I] + count[I] == first[I + 1]


def test_control_data_missing(tmp_path):
    with h5py.File(_write(tmp_path, "control_data_missing"), "r") as f:
        assert f[f"INDEX/{MOTOR}/count"][:].sum() == N
        for key in ("actualPosition/value", "actualPosition/timestamp", "state/value"):
            assert f[f"CONTROL/{MOTOR}/{key}"].shape == (N - 2,)
        assert f[f"CONTROL/{XGM_NAME}/beamPosition/ixPos/value"].shape == (N,)


def test_control_timestamps_backwards(tmp_path):
    with h5py.File(_write(tmp_path, "control_timestamps_backwards"), "r") as f:
        ts = f[f"CONTROL/{MOTOR}/actualPosition/timestamp"][:].astype(np.int64)
        steps = np.diff(ts)
        assert ts[I] == ts[I - 1] - 10**9
        assert (steps < 0).sum() == 1


def test_zero_trains(tmp_path):
    with h5py.File(_write(tmp_path, "zero_trains", pad_train_ids=3), "r") as f:
        assert f["INDEX/trainId"][:].tolist() == [0, 0, 0]
        assert f[f"CONTROL/{MOTOR}/actualPosition/value"].shape == (0,)
        assert f[f"RUN/{MOTOR}/actualPosition/value"].shape == (1,)


def test_truncated(tmp_path):
    good = write_file(tmp_path / "good.h5", [Motor(MOTOR), XGM(XGM_NAME)], n_trains=N)
    bad = _write(tmp_path, "truncated")
    assert bad.stat().st_size == good.stat().st_size // 2
    with pytest.raises(OSError):
        h5py.File(bad, "r")


def test_not_hdf5(tmp_path):
    path = _write(tmp_path, "not_hdf5")
    assert path.stat().st_size == 4096
    assert not h5py.is_hdf5(path)


def test_not_euxfel(tmp_path):
    with h5py.File(_write(tmp_path, "not_euxfel"), "r") as f:
        assert list(f) == ["data"] and f["data/values"].shape == (10,)


def test_no_index_trainid(tmp_path):
    with h5py.File(_write(tmp_path, "no_index_trainid"), "r") as f:
        assert "INDEX/trainId" not in f and "INDEX/flag" in f
        assert f"INDEX/{MOTOR}/count" in f


@pytest.mark.parametrize("version", ["0.5", "1.3"])
def test_no_source_list(tmp_path, version):
    with h5py.File(_write(tmp_path, "no_source_list", format_version=version), "r") as f:
        assert "METADATA/dataSources" not in f and "METADATA/dataSourceId" not in f
        assert "METADATA/root" not in f and "INDEX/trainId" in f
