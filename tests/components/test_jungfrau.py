"""JUNGFRAU: memory cells as frames, dimension names, cell IDs."""

from __future__ import annotations

import numpy as np
import pytest

from extra_catalog.components import JUNGFRAU

from ._helpers import FIRST, SHAPE, quiet

CELLS = 16  # JUNGFRAUModule's default memory cells


def test_get_array(open_):
    det = quiet(JUNGFRAU, open_("jf_raw"))
    assert repr(det) == ("<JUNGFRAU: Data interface for detector 'SPB_IRDA_JF4M' - raw data "
                         "with 2 modules>")
    assert det.frames_per_train == CELLS
    arr = det.get_array("data.adc")
    assert arr.dims == ("module", "train", "cell", "slow_scan", "fast_scan")
    assert arr.shape == (2, 6, CELLS) + SHAPE
    assert list(arr.coords["module"].values) == [1, 2]
    assert list(arr.coords["train"].values) == list(range(FIRST, FIRST + 6))
    src = det.modno_to_source[2]
    np.testing.assert_array_equal(arr.values[1], det.data[src, "data.adc"].ndarray())
    cells = det.get_array("data.memoryCell")
    assert cells.dims == ("module", "train", "cell")


def test_roi_and_module_gaps(open_):
    det = quiet(JUNGFRAU, open_("jf_proc"))
    arr = det.get_array("data.adc", roi=np.s_[:2, 1:3])
    assert arr.shape == (2, 6, 2, 2, 3) and arr.dtype == np.float32
    gaps = det["data.adc"].ndarray(module_gaps=True)
    assert gaps.shape == (2, 6, CELLS) + SHAPE  # n_modules is the highest module found
    wide = quiet(JUNGFRAU, open_("jf_proc"), n_modules=4)
    assert wide["data.adc"].ndarray(module_gaps=True).shape == (4, 6, CELLS) + SHAPE
    assert wide.data_availability(module_gaps=True).tolist() == [[True] * 6] * 2 + [[False] * 6] * 2


def test_get_dask_array(open_):
    det = quiet(JUNGFRAU, open_("jf_raw"))
    lazy = det.get_dask_array("data.adc")
    assert lazy.dims == ("module", "train", "cell", "slow_scan", "fast_scan")
    # As EXtra-data: at most 256 frames per chunk, memory cells counting as frames.
    assert lazy.data.chunks[1] == (6,)
    np.testing.assert_array_equal(lazy.values, det.get_array("data.adc").values)


def test_trains(open_):
    det = quiet(JUNGFRAU, open_("jf_proc"))
    tid, data = next(det.trains())
    assert tid == FIRST
    assert data["data.adc"].dims == ("module", "cell", "slow_scan", "fast_scan")
    assert data["data.memoryCell"].dims == ("module", "cell")
    assert data["data.trainId"].values.tolist() == [FIRST, FIRST]


def test_cell_ids(open_):
    det = quiet(JUNGFRAU, open_("jf_raw"))
    np.testing.assert_array_equal(det.cell_ids(), np.arange(CELLS))


def test_masked_data(open_):
    det = quiet(JUNGFRAU, open_("jf_proc"))
    masked = det.masked_data()
    assert repr(masked) == "<Masked 'data.adc' detector data for 2 modules>"
    # The generated mask is all zeros: nothing is replaced.
    np.testing.assert_array_equal(masked.ndarray(), det["data.adc"].ndarray())
    with pytest.raises(RuntimeError, match=r"doesn't include a mask \(data.mask\)"):
        quiet(JUNGFRAU, open_("jf_raw")).masked_data()


@pytest.mark.parametrize("names, first_modno, modnos", [
    (["SPB_IRDA_JNGFR/DET/MODULE_1", "SPB_IRDA_JNGFR/DET/MODULE_2"], 1, [1, 2]),
    (["FXE_XAD_JF1M/DET/RECEIVER-1", "FXE_XAD_JF1M/DET/RECEIVER-2"], 1, [1, 2]),
    (["HED_IA1_JF500K1/DET/JNGFR03"], 3, [1]),
])
def test_source_name_conventions(tmp_path, names, first_modno, modnos):
    from extra_catalog import RunDirectory
    from extra_catalog.testing import JUNGFRAUModule, write_run

    aggs = {f"JNGFR{i:02d}": [JUNGFRAUModule(n, memory_cells=2, frame_shape=SHAPE)]
            for i, n in enumerate(names)}
    write_run(tmp_path, n_trains=2, aggregators=aggs)
    det = JUNGFRAU(RunDirectory(tmp_path), raw=True, first_modno=first_modno)
    assert det.detector_name == names[0].split("/")[0]
    assert sorted(det.modno_to_source) == modnos
    assert det.get_array("data.adc").shape == (len(names), 2, 2) + SHAPE
