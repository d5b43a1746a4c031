"""FileAccess on generated files of every format version."""

from __future__ import annotations

import dataclasses

import h5py
import numpy as np
import pytest

from extra_catalog.exceptions import PropertyNameError, SourceNameError
from extra_catalog.fileaccess import FileAccess
from extra_catalog.testing import (TIMESTAMP_ORIGIN_NS, TRAIN_PERIOD_NS, Motor, XGM,
                                   XTDFModule, write_file)

from .conftest import (CAMERA_NAME, CAMERA_SKIP, ERRATA_NAME, MODULE_NAME, MOTOR_NAME, N_TRAINS,
                       REDUCTION_NAME, RUNONLY_NAME, SUSPECT, XGM_NAME, expected_train_ids)

CAMERA_OUT = CAMERA_NAME + ":daqOutput"
XGM_OUT = XGM_NAME + ":output"


def test_train_ids_without_padding(version_file) -> None:
    fa = FileAccess(version_file)
    assert fa.train_ids.dtype == np.uint64
    np.testing.assert_array_equal(fa.train_ids, expected_train_ids())


def test_validity_per_version(version_file, version) -> None:
    fa = FileAccess(version_file)
    tids = expected_train_ids()
    expected_bad = () if version == "0.5" else SUSPECT
    np.testing.assert_array_equal(fa.validity_flag, ~np.isin(tids, expected_bad))
    np.testing.assert_array_equal(fa.valid_train_ids, tids[~np.isin(tids, expected_bad)])
    assert fa.has_train_ids(np.array([10000]))
    assert fa.has_train_ids(np.array([SUSPECT[0]]), inc_suspect=True)
    assert fa.has_train_ids(np.array([SUSPECT[0]])) == (version == "0.5")
    assert not fa.has_train_ids(np.array([5, 20000]), inc_suspect=True)


def test_1_1_flag_is_read_inverted(version_files) -> None:
    path = version_files["1.1"]
    with h5py.File(path, "r") as f:
        stored = f["INDEX/flag"][:N_TRAINS]
        listed = [s.decode() for s in f["METADATA/dataSources/dataSourceId"][:]]
    assert any(s.startswith("Karabo_TimerServer/") for s in listed)  # ignored
    fa = FileAccess(path)
    # The file stores 0 for good trains; the validity flag says True for them.
    np.testing.assert_array_equal(fa.validity_flag, stored == 0)
    assert not fa.validity_flag.all()


def test_sources_per_version(version_file, version) -> None:
    fa = FileAccess(version_file)
    assert fa.control_sources == {XGM_NAME, MOTOR_NAME, CAMERA_NAME, RUNONLY_NAME}
    assert fa.instrument_sources == {XGM_OUT, CAMERA_OUT, MODULE_NAME}
    assert fa.all_sources == fa.control_sources | fa.instrument_sources
    assert fa.legacy_sources == {}
    if version == "1.3":
        assert fa.reduction_sources == {REDUCTION_NAME}
        assert fa.errata_sources == {ERRATA_NAME}
        assert fa.source_section(ERRATA_NAME) == "ERRATA"
    else:
        assert fa.reduction_sources == fa.errata_sources == frozenset()
    assert fa.format_version == version


def test_index_groups(version_file) -> None:
    fa = FileAccess(version_file)
    assert fa.index_groups(XGM_NAME) == {""}
    assert fa.index_groups(XGM_OUT) == {"data"}
    assert fa.index_groups(CAMERA_OUT) == {"data", "header"}
    assert fa.index_groups(MODULE_NAME) == {"image", "header", "detector", "trailer"}


def test_keys_dtypes_and_shapes(version_file) -> None:
    fa = FileAccess(version_file)
    assert fa.get_keys(MOTOR_NAME) == {
        f"{p}.{k}" for p in ("actualPosition", "encoderPosition", "targetPosition", "state")
        for k in ("value", "timestamp")}
    assert fa.get_keys(CAMERA_OUT) == {"data.image.pixels", "data.image.dims", "data.trainId",
                                       "header.frameNumber", "header.trainId"}
    assert fa.has_source_key(XGM_NAME, "beamPosition.ixPos.value")
    assert not fa.has_source_key(XGM_NAME, "beamPosition.ixPos")
    assert fa.get_one_key(CAMERA_OUT, "header").startswith("header.")
    assert fa.get_one_key(MODULE_NAME) in fa.get_keys(MODULE_NAME)
    assert fa.get_keys(RUNONLY_NAME) == set()
    assert fa.get_one_key(RUNONLY_NAME) is None

    pixels = fa.key_info(CAMERA_OUT, "data.image.pixels")
    assert (pixels.dtype, pixels.entry_shape, pixels.length) == (np.dtype("u2"), (8, 10), 18)
    assert pixels.chunks == (1, 8, 10) and pixels.compression == "gzip"
    image = fa.key_info(MODULE_NAME, "image.data")
    assert (image.dtype, image.entry_shape, image.length) == (np.dtype("u2"), (2, 8, 8), 40)
    assert fa.key_info(MODULE_NAME, "image.cellId").entry_shape == (1,)
    state = fa.key_info(MOTOR_NAME, "state.value")
    assert h5py.check_string_dtype(state.dtype) is not None
    assert fa.key_info(MOTOR_NAME, "actualPosition.timestamp").dtype == np.dtype("u8")
    with pytest.raises(PropertyNameError):
        fa.key_info(MOTOR_NAME, "nope.value")


def test_units_attributes_of_control_and_instrument(version_file) -> None:
    fa = FileAccess(version_file)
    flux = fa.key_info(XGM_NAME, "pulseEnergy.photonFlux.value").attrs
    assert flux["unitSymbol"] == "J" and flux["metricPrefixSymbol"] == "u"
    assert fa.key_info(MOTOR_NAME, "actualPosition.value").attrs["unitName"] == "meter"
    assert fa.key_info(XGM_NAME, "pulseEnergy.numberOfBunches.value").attrs == {}


def test_index_arrays(version_file) -> None:
    fa = FileAccess(version_file)
    first, count = fa.get_index(CAMERA_OUT, "data")
    expected_count = np.where(np.isin(expected_train_ids(), CAMERA_SKIP), 0, 2)
    np.testing.assert_array_equal(count, expected_count)
    np.testing.assert_array_equal(first, np.cumsum(expected_count) - expected_count)
    assert first.dtype == count.dtype == np.uint64
    first, count = fa.get_index(MOTOR_NAME, "")
    np.testing.assert_array_equal(first, np.arange(N_TRAINS))
    np.testing.assert_array_equal(count, np.ones(N_TRAINS))
    np.testing.assert_array_equal(fa.get_index(RUNONLY_NAME, "")[1], np.zeros(N_TRAINS))
    np.testing.assert_array_equal(fa.get_index(MODULE_NAME, "image")[1], np.full(N_TRAINS, 4))
    with pytest.raises(ValueError, match="no index group 'bogus'"):
        fa.get_index(MODULE_NAME, "bogus")
    with pytest.raises(ValueError, match="read-only"):
        first[0] = 5  # cached arrays are shared, so they cannot be changed
    with pytest.raises(ValueError, match="read-only"):
        fa.train_ids[0] = 5


def test_old_first_last_status_index(tmp_path, version) -> None:
    xgm = XGM(XGM_NAME, entries_per_train=3, skip_trains=(10004,))
    path = write_file(tmp_path / "old.h5", [xgm, Motor(MOTOR_NAME)],
                      old_index=True, format_version=version, pad_train_ids=2)
    fa = FileAccess(path)
    with h5py.File(path, "r") as f:
        assert "count" not in f[f"INDEX/{XGM_OUT}/data"]
    first, count = fa.get_index(XGM_OUT, "data")
    np.testing.assert_array_equal(count, [3, 3, 3, 3, 0, 3, 3, 3, 3, 3])
    np.testing.assert_array_equal(first[:4], [0, 3, 6, 9])
    np.testing.assert_array_equal(fa.get_index(MOTOR_NAME, "")[1], np.ones(10))
    assert fa.to_record().problems == ()


def test_metadata_per_version(version_file, version) -> None:
    meta = FileAccess(version_file).metadata()
    if version == "0.5":
        assert meta == {"dataFormatVersion": "0.5"}
        return
    assert meta["dataFormatVersion"] == version
    assert (meta["proposalNumber"], meta["runNumber"], meta["sequenceNumber"]) == (900001, 1, 0)
    assert (meta["runType"], meta["sample"]) == ("SASE", "lysozyme")
    assert {"creationDate", "updateDate", "daqLibrary", "karaboFramework"} <= set(meta)
    assert all(not isinstance(v, bytes) for v in meta.values())


def test_run_values(version_file) -> None:
    fa = FileAccess(version_file)
    p0 = float(Motor(MOTOR_NAME).hash(0) % 100)
    values = fa.get_run_values(MOTOR_NAME)
    assert values["classId.value"] == "MotorClass"
    assert values["deviceId.value"] == MOTOR_NAME
    assert values["targetPosition.value"] == p0 + 100
    assert values["actualPosition.value"] == pytest.approx(p0 + 0.001 * 10000)
    assert values["state.value"] == "MOVING"  # train 10000 % 10 == 0
    assert isinstance(values["state.timestamp"], np.uint64)  # the type in the file, as h5py gives it
    assert fa.get_run_keys(MOTOR_NAME) == set(values)
    assert fa.get_run_values(RUNONLY_NAME)["softwareVersion.value"] == "2.19.0"
    with pytest.raises(SourceNameError):  # an instrument source without RUN data
        fa.get_run_keys(CAMERA_OUT)


def test_timestamps(version_file, version) -> None:
    fa = FileAccess(version_file)
    if version == "0.5":
        assert fa.timestamps is None
    else:
        expected = TIMESTAMP_ORIGIN_NS + expected_train_ids() * TRAIN_PERIOD_NS
        np.testing.assert_array_equal(fa.timestamps, expected)


def test_unknown_source_names_file(version_file) -> None:
    fa = FileAccess(version_file)
    with pytest.raises(SourceNameError, match="no source named 'NOPE'"):
        fa.get_keys("NOPE")
    with pytest.raises(SourceNameError, match=str(version_file.name)):
        fa.index_groups("NOPE")


def test_path_information(version_file) -> None:
    fa = FileAccess(version_file)
    assert (fa.data_category, fa.aggregator, fa.run) == ("RAW", "DA01", 1)
    assert fa.sequence == int(version_file.stem[-1])
    assert fa.instrument is None  # not inside a facility tree


def test_path_information_in_facility_tree(tmp_path) -> None:
    run_dir = tmp_path / "SPB" / "202601" / "p900002" / "raw" / "r0007"
    path = write_file(run_dir / "RAW-R0007-DA02-S00004.h5", [Motor(MOTOR_NAME)])
    fa = FileAccess(path)
    # Not a EuXFEL storage location: like EXtra-data, no facility fields.
    assert (fa.storage_class, fa.instrument, fa.cycle, fa.proposal) == (None,) * 4
    assert (fa.run, fa.aggregator, fa.sequence) == (7, "DA02", 4)
    # The same file's record placed at the facility's storage locations:
    for where in ["/gpfs/exfel/exp/SPB/202601/p900002/raw/r0007",
                  "/gpfs/exfel/d/raw/SPB/202601/p900002/r0007",
                  "/pnfs/xfel.eu/exfel/archive/XFEL/raw/SPB/202601/p900002/r0007"]:
        record = dataclasses.replace(fa.to_record(), path=f"{where}/{path.name}")
        placed = FileAccess.from_record(record)
        assert (placed.storage_class, placed.instrument, placed.cycle, placed.proposal,
                placed.run) == ("raw", "SPB", "202601", 900002, 7)


def test_legacy_names(tmp_path, version) -> None:
    canonical = "SPB_DET_AGIPD1M-1/CORR/0CH0:output"
    legacy = "SPB_DET_AGIPD1M-1/DET/0CH0:output"
    path = write_file(tmp_path / "legacy.h5",
                      [XTDFModule(canonical, raw=False, frames_per_train=2, frame_shape=(4, 4)),
                       Motor(MOTOR_NAME)],
                      legacy_names={legacy: canonical}, format_version=version)
    fa = FileAccess(path)
    assert fa.legacy_sources == {legacy: canonical}
    # as in EXtra-data, the legacy name is listed with the instrument sources
    assert fa.instrument_sources == {canonical, legacy}
    assert legacy in fa.all_sources
    assert fa.get_keys(legacy) == fa.get_keys(canonical)
    assert fa.index_groups(legacy) == fa.index_groups(canonical)
    np.testing.assert_array_equal(fa.get_index(legacy, "image")[1],
                                  fa.get_index(canonical, "image")[1])
    assert fa.dataset_path(legacy, "image.data") == f"INSTRUMENT/{canonical}/image/data"
    assert fa.to_record().legacy_sources == ((legacy, canonical),)


def test_data_reading_through_file_and_proxy(version_file) -> None:
    fa = FileAccess(version_file)
    path = fa.dataset_path(MOTOR_NAME, "actualPosition.value")
    p0 = float(Motor(MOTOR_NAME).hash(0) % 100)
    np.testing.assert_allclose(fa.file[path][:], p0 + 0.001 * expected_train_ids())
    proxy = fa.dset_proxy(path)
    assert proxy.shape == (N_TRAINS,) and proxy.ndim == 1 and len(proxy) == N_TRAINS
    fa.close()
    # The proxy reopens the file after it was closed.
    np.testing.assert_allclose(proxy[:2], p0 + 0.001 * expected_train_ids()[:2])
    np.testing.assert_allclose(np.asarray(proxy), fa.file[path][:])
