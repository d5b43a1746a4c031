"""get_virtual_dataset: the same data as reading, across sequence files, no copy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from extra_catalog import RunDirectory, by_id
from extra_catalog.exceptions import ExtraCatalogError
from extra_catalog.testing import write_run

DET = "SPB_DET_AGIPD1M-1/DET/0CH0:xtdf"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("vds") / "r0004"
    write_run(run_dir, run=4, n_trains=12, trains_per_sequence=5, detector="AGIPD1M",
              n_modules=1, frames_per_train=3, frame_shape=(4, 6))
    return RunDirectory(run_dir, catalog=None)


def test_virtual_dataset_equals_the_data_across_sequence_files(run, tmp_path):
    sel = run.select_trains(by_id[10003:10011])  # spans three sequence files
    expected = sel[DET, "image.data"].ndarray()
    ds = sel.get_virtual_dataset(DET, "image.data", tmp_path / "v.h5")
    assert ds.is_virtual and ds.file.mode == "r"
    assert ds.shape == expected.shape and ds.dtype == expected.dtype
    np.testing.assert_array_equal(ds[()], expected)
    assert len({Path(s.file_name).name for s in ds.virtual_sources()}) == 3


def test_default_is_a_temporary_file(run):
    ds = run.get_virtual_dataset("SA1_XTD2_XGM/DOOCS/MAIN", "pulseEnergy.photonFlux.value")
    path = Path(ds.file.filename)
    try:
        assert path.name.endswith("-karabo-data-vds.h5")
        np.testing.assert_array_equal(
            ds[()], run["SA1_XTD2_XGM/DOOCS/MAIN", "pulseEnergy.photonFlux"].ndarray())
    finally:
        ds.file.close()
        path.unlink()


def test_strings_are_refused_clearly(run):
    motor = next(s for s in run.control_sources if "MOTOR" in s or "MTR" in s)
    with pytest.raises(ExtraCatalogError, match="variable-length"):
        run.get_virtual_dataset(motor, "state.value")
