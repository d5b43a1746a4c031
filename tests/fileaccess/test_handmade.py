"""Cases the generator does not produce, made by editing files with h5py."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from extra_catalog.fileaccess import FileAccess, hdf5_open_count
from extra_catalog.testing import XGM, Motor, write_file

from .conftest import MOTOR_NAME, XGM_NAME, forget_instances


@pytest.fixture
def motor_file(tmp_path: Path) -> Path:
    return write_file(tmp_path / "RAW-R0001-DA01-S00000.h5", [Motor(MOTOR_NAME)], n_trains=4)


def test_run_array_values_from_record_read_the_file(motor_file) -> None:
    with h5py.File(motor_file, "a") as f:
        f[f"RUN/{MOTOR_NAME}/limits/value"] = np.array([[-5.0, 5.0, 0.5]])
        f[f"RUN/{MOTOR_NAME}/names/value"] = np.array([[b"a", b"b"]], dtype=object).astype(
            h5py.string_dtype())
    record = FileAccess(motor_file).to_record()
    limits = next(r for r in record.source(MOTOR_NAME).run_values if r.key == "limits.value")
    assert limits.value is None and limits.shape == (3,)
    assert "min -5.0" in limits.summary and "max 5.0" in limits.summary
    forget_instances()
    opens = hdf5_open_count()
    fa = FileAccess.from_record(record)
    assert fa.get_run_keys(MOTOR_NAME) >= {"limits.value", "names.value"}
    assert hdf5_open_count() == opens
    values = fa.get_run_values(MOTOR_NAME)
    np.testing.assert_array_equal(values["limits.value"], [-5.0, 5.0, 0.5])
    assert list(values["names.value"]) == ["a", "b"]
    assert hdf5_open_count() == opens + 1  # arrays are data: read from the file


def test_run_strings_decoded_with_surrogateescape(motor_file) -> None:
    with h5py.File(motor_file, "a") as f:
        f[f"RUN/{MOTOR_NAME}/raw/value"] = np.array([b"caf\xe9"])
    values = FileAccess(motor_file).get_run_values(MOTOR_NAME)
    assert values["raw.value"] == "caf\udce9"
    assert values["raw.value"].encode("utf-8", "surrogateescape") == b"caf\xe9"


def test_empty_run_dataset(motor_file) -> None:
    with h5py.File(motor_file, "a") as f:
        f[f"RUN/{MOTOR_NAME}/nothing/value"] = np.zeros(0)
    fa = FileAccess(motor_file)
    assert fa.get_run_values(MOTOR_NAME)["nothing.value"] is None
    forget_instances()
    clone = FileAccess.from_record(fa.to_record())
    assert clone.get_run_values(MOTOR_NAME)["nothing.value"] is None


def test_instrument_attributes_and_unlisted_data_group(tmp_path) -> None:
    path = write_file(tmp_path / "RAW-R0001-DA01-S00000.h5", [XGM(XGM_NAME)], n_trains=4)
    src = XGM_NAME + ":output"
    with h5py.File(path, "a") as f:
        f[f"INSTRUMENT/{src}/data/intensityTD"].attrs["unitSymbol"] = "V"
        f[f"INSTRUMENT/{src}/data/intensityTD"].attrs["scale"] = np.float32(0.5)
        f[f"INSTRUMENT/{src}/extra/thing"] = np.zeros(4)
    fa = FileAccess(path)
    assert fa.key_info(src, "data.intensityTD").attrs == {"scale": 0.5, "unitSymbol": "V"}
    problem = next(p for p in fa.to_record().problems if p.check == "index_group_unlisted")
    assert problem.source == src and "'extra'" in problem.message


def test_missing_instrument_group_and_index(tmp_path) -> None:
    path = write_file(tmp_path / "RAW-R0001-DA01-S00000.h5", [XGM(XGM_NAME)], n_trains=4)
    src = XGM_NAME + ":output"
    with h5py.File(path, "a") as f:
        del f[f"INSTRUMENT/{src}"]
        del f[f"INDEX/{src}/data/count"]
    fa = FileAccess(path)
    assert fa.get_keys(src) == set()
    np.testing.assert_array_equal(fa.get_index(src, "data")[1], np.zeros(4))
    found = {p.check for p in fa.to_record().problems}
    assert {"source_data_missing", "index_missing"} <= found


def test_flag_length_mismatch_reported(motor_file) -> None:
    with h5py.File(motor_file, "a") as f:
        del f["INDEX/flag"]
        f["INDEX/flag"] = np.array([1, 0], dtype=np.int32)
    fa = FileAccess(motor_file)
    np.testing.assert_array_equal(fa.validity_flag, [True, False, True, True])
    assert "index_flag_length" in {p.check for p in fa.to_record().problems}


def test_voview_attribute(motor_file) -> None:
    assert FileAccess(motor_file).is_voview is False
    forget_instances()
    with h5py.File(motor_file, "a") as f:
        f.attrs["virtual_overview_version"] = 1
    assert FileAccess(motor_file).is_voview is True
