"""Shared fixtures of the FileAccess tests: generated files per format version."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from extra_catalog.fileaccess import file_access, get_handle_cache
from extra_catalog.testing import (FORMAT_VERSIONS, AuxiliarySource, Camera, Motor, RunOnlyDevice,
                                   XGM, XTDFModule, write_file)

XGM_NAME = "SA1_XTD2_XGM/DOOCS/MAIN"
MOTOR_NAME = "SPB_IRU_MOTORS/MOTOR/X"
CAMERA_NAME = "SPB_IRU_CAM/CAM/SIDEMIC"
MODULE_NAME = "SPB_DET_AGIPD1M-1/DET/0CH0:xtdf"
RUNONLY_NAME = "SPB_IRU_SETTINGS/MDL/CONFIG"
REDUCTION_NAME = "PULSE_REDUCTION/SPB_DET_AGIPD1M-1/DET/0CH0:xtdf"
ERRATA_NAME = "TRAINS_OUTSIDE_BUFFER_RANGE"

N_TRAINS = 10
FIRST_TRAIN = 10000
SUSPECT = (10002, 10007)
CAMERA_SKIP = (10003,)
PAD = 3


def standard_devices(version: str) -> list:
    """The devices of the per-version test files."""
    devices = [
        XGM(XGM_NAME),
        Motor(MOTOR_NAME),
        Camera(CAMERA_NAME, shape=(8, 10), entries_per_train=2, skip_trains=CAMERA_SKIP),
        XTDFModule(MODULE_NAME, frames_per_train=4, frame_shape=(8, 8)),
        RunOnlyDevice(RUNONLY_NAME),
    ]
    if version == "1.3":
        devices += [AuxiliarySource(REDUCTION_NAME, section="REDUCTION"),
                    AuxiliarySource(ERRATA_NAME, section="ERRATA")]
    return devices


def write_standard(path: Path, version: str, **kwargs) -> Path:
    """One file of the standard layout in *version* (suspect trains from 1.0)."""
    suspect = SUSPECT if version != "0.5" else ()
    return write_file(path, standard_devices(version), n_trains=N_TRAINS,
                      first_train_id=FIRST_TRAIN, format_version=version,
                      suspect_train_ids=suspect, pad_train_ids=PAD, run_type="SASE",
                      sample="lysozyme", **kwargs)


@pytest.fixture(scope="session")
def version_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A standard file per format version, written once per session."""
    root = tmp_path_factory.mktemp("versions")
    return {v: write_standard(root / f"RAW-R0001-DA01-S0000{i}.h5", v)
            for i, v in enumerate(FORMAT_VERSIONS)}


@pytest.fixture(params=FORMAT_VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    """Each format version in turn."""
    return request.param


@pytest.fixture
def version_file(version_files: dict[str, Path], version: str) -> Path:
    """The standard file of the current version."""
    return version_files[version]


def forget_instances() -> None:
    """Drop registered FileAccess instances and cached handles (as in a new process)."""
    gc.collect()
    file_access._registry.clear()
    get_handle_cache().close_all()
    gc.collect()


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    # Each test starts without registered instances or open handles.
    file_access._registry.clear()
    get_handle_cache().close_all()
    yield
    file_access._registry.clear()
    get_handle_cache().close_all()


def expected_train_ids() -> np.ndarray:
    return np.arange(FIRST_TRAIN, FIRST_TRAIN + N_TRAINS, dtype=np.uint64)
