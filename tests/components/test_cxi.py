"""Writing from detectors (virtual CXI files, write_frames, extra-data-make-virtual-cxi); data count plots."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from extra_catalog import H5File, RunDirectory
from extra_catalog.cli.make_virtual_cxi import make_virtual_cxi, parse_number
from extra_catalog.components import AGIPD1M, JUNGFRAU, LPD1M

from ._helpers import FIRST, SHAPE, quiet

DET = "entry_1/instrument_1/detector_1"


def _frames(mkd_array: np.ndarray) -> np.ndarray:
    """(module, frame, ...) -> (frame, module, ...), as CXI lays frames out."""
    return np.moveaxis(mkd_array, 0, 1)


def test_agipd_with_missing_modules_and_trains(open_, tmp_path: Path) -> None:
    det = quiet(AGIPD1M, open_("gaps"))  # modules 0, 3 and 5; 3 and 5 miss trains
    det.write_virtual_cxi(tmp_path / "out.cxi")
    expected = det["image.data"].ndarray(module_gaps=True, fill_value=0)
    with h5py.File(tmp_path / "out.cxi") as f:
        data = f[f"{DET}/data"]
        assert data.is_virtual and data.shape == (6 * 4, 16, 2, *SHAPE)
        np.testing.assert_array_equal(data[()], _frames(expected))
        assert not data[:4, 5].any() and data[:4, 0].any()  # module 5 lacks train 10000
        assert not data[:, 1].any()  # a module that never recorded: fill values
        assert f[f"{DET}/module_identifier"][()].tolist() == list(range(16))
        assert f["cxi_version"][()].tolist() == [150]
        assert f["entry_1/trainId"][()].tolist() == np.repeat(np.arange(FIRST, FIRST + 6),
                                                              4).tolist()
        ids = [x.decode() for x in f["entry_1/experiment_identifier"][:2]]
        pulses = f["entry_1/pulseId"][()]
        assert ids == [f"{FIRST}:{pulses[0]}", f"{FIRST}:{pulses[1]}"]
        assert f["entry_1/cellId"].shape == (24, 16)
        assert f["entry_1/cellId"].attrs["axes"] == "experiment_identifier:module_identifier"
        assert f["entry_1/data_1"] == f[DET]  # a soft link
        assert f["entry_1"].attrs["euxfelRunNumber"] == 1
        assert f[DET].attrs["name"] == "SPB_DET_AGIPD1M-1"


def test_corrected_data_fill_values(open_, tmp_path: Path) -> None:
    det = AGIPD1M(open_("agipd_proc"))
    det.write_virtual_cxi(tmp_path / "proc.cxi")
    with h5py.File(tmp_path / "proc.cxi") as f:
        data = f[f"{DET}/data"]
        assert data.shape == (24, 16, *SHAPE) and np.isnan(data.fillvalue)
        assert data.attrs["axes"] == "experiment_identifier:module_identifier:y:x"
        assert np.isnan(data[:, 5]).all()  # module 5 is not in this run
        np.testing.assert_array_equal(data[:, :3], _frames(det["image.data"].ndarray()))
        assert f[f"{DET}/gain"].fillvalue == 0 and f[f"{DET}/mask"].fillvalue == 0xFFFFFFFF


def test_raw_agipd_has_a_data_gain_axis(open_, tmp_path: Path) -> None:
    det = quiet(AGIPD1M, open_("agipd_raw"))
    det.write_virtual_cxi(tmp_path / "raw.cxi", fillvalues={"data": 7})
    with h5py.File(tmp_path / "raw.cxi") as f:
        data = f[f"{DET}/data"]
        assert data.shape == (24, 16, 2, *SHAPE) and data.fillvalue == 7
        assert data.attrs["axes"].endswith("module_identifier:data_gain:y:x")
        assert [x.decode() for x in f["entry_1/data_gain"][()]] == ["data", "gain"]
        stacked = det["image.data"].ndarray(module_gaps=True, fill_value=7)
        np.testing.assert_array_equal(data[()], _frames(stacked))


def test_jungfrau_frames_are_memory_cells(open_, tmp_path: Path) -> None:
    det = quiet(JUNGFRAU, open_("jf_raw"))
    det.write_virtual_cxi(tmp_path / "jf.cxi")
    adc = det["data.adc"].ndarray(module_gaps=True)  # (module, train, cell, y, x)
    n_mod, n_trains, cells = adc.shape[:3]
    with h5py.File(tmp_path / "jf.cxi") as f:
        data = f[f"{DET}/data"][()]
        assert data.shape == (n_trains * cells, det.n_modules, *adc.shape[3:])
        np.testing.assert_array_equal(data, np.moveaxis(adc, 0, 2).reshape(data.shape))
        assert f[f"{DET}/module_identifier"][()].tolist() == [1, 2]
        assert f["entry_1/memoryCell"][:cells].tolist() == list(range(cells))


def test_modules_disagreeing_on_pulse_ids(runs, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(runs["lpd_raw"], copy)
    path = sorted(copy.glob("*-LPD01-S00000.h5"))[0]
    with h5py.File(path, "r+") as f:
        ds = f["INSTRUMENT/FXE_DET_LPD1M-1/DET/1CH0:xtdf/image/pulseId"]
        ds[0] = ds[0] + 1
    det = quiet(LPD1M, RunDirectory(copy))
    with pytest.raises(ValueError, match="Inconsistent pulse IDs for different modules"):
        det.write_virtual_cxi(tmp_path / "out.cxi")
    assert not (tmp_path / "out.cxi").exists()


def test_command_default_output_and_options(runs, tmp_path: Path) -> None:
    proposal = tmp_path / "p900001"
    shutil.copytree(runs["gaps"], proposal / "proc" / "r0001")
    (proposal / "scratch").mkdir()
    runner = CliRunner()
    run = str(proposal / "proc" / "r0001")
    # By default at least half the detector's modules plus one (9 of 16): not here.
    result = runner.invoke(make_virtual_cxi, [run])
    assert result.exit_code == 1 and "No data found with >= 9 modules present" in result.output
    result = runner.invoke(make_virtual_cxi, [run, "--min-modules", "1", "--fill-value",
                                              "data", "7", "--fill-value", "mask", "0xff"])
    assert result.exit_code == 0, result.output
    with h5py.File(proposal / "scratch" / "r0001_proc_detectors_virt.cxi") as f:
        assert f[f"{DET}/data"].fillvalue == 7
        assert f[f"{DET}/data"].shape[0] == 6 * 4
    # The older form: proposal directory and run number, reading proc/r0001.
    result = runner.invoke(make_virtual_cxi, [str(proposal), "1", "--min-modules", "1"])
    assert result.exit_code == 0, result.output
    assert (proposal / "scratch" / "r0001_detectors_virt.cxi").is_file()


def test_command_min_modules_and_errors(runs, tmp_path: Path) -> None:
    runner = CliRunner()
    run = str(runs["gaps"])
    result = runner.invoke(make_virtual_cxi, [run, "-o", str(tmp_path / "a.cxi"),
                                              "--min-modules", "3"])
    assert result.exit_code == 0, result.output
    with h5py.File(tmp_path / "a.cxi") as f:
        # Only trains 10001 and 10004 have all three modules.
        assert sorted(set(f["entry_1/trainId"][()].tolist())) == [FIRST + 1, FIRST + 4]
    result = runner.invoke(make_virtual_cxi, [run])
    assert result.exit_code == 1 and "'-o outfile' option needed" in result.output
    result = runner.invoke(make_virtual_cxi, [run, "-o", str(tmp_path / "no" / "x.cxi")])
    assert result.exit_code == 1 and "Don't have write access" in result.output


def test_fill_value_numbers() -> None:
    assert np.isnan(parse_number("nan"))
    assert parse_number("0xffffffff") == 0xFFFFFFFF and parse_number("-1") == -1.0


def test_write_frames_keeps_only_the_chosen_frames(open_, tmp_path: Path) -> None:
    det = quiet(AGIPD1M, open_("agipd_raw"))
    pulse_ids = det["image.pulseId"].ndarray()[0].ravel()  # module 0, every frame
    per_train = 4
    first_train = pulse_ids[:per_train]
    trains = np.array([FIRST, FIRST + 1, FIRST + 1, FIRST + 4])
    pulses = np.array([first_train[1], first_train[0], first_train[2], first_train[1]])
    det.write_frames(tmp_path / "frames.h5", trains, pulses)
    out = H5File(tmp_path / "frames.h5")
    assert out.all_sources == det.data.all_sources
    for source in sorted(det.source_to_modno):
        kd = out[source, "image.pulseId"]
        assert kd.data_counts(labelled=False).tolist() == [1, 2, 0, 0, 1, 0]
        assert kd.ndarray().ravel().tolist() == pulses.tolist()
        # Frames are the originals: compare with the same frames read from the run.
        original = det.data[source, "image.data"].ndarray()
        tids = det.data[source, "image.data"].train_id_coordinates()
        pids = det.data[source, "image.pulseId"].ndarray().ravel()
        chosen = [np.flatnonzero((tids == t) & (pids == p))[0] for t, p in zip(trains, pulses)]
        np.testing.assert_array_equal(out[source, "image.data"].ndarray(), original[chosen])
        assert out[source, "header.pulseCount"].shape == (6,)  # other keys whole
    with pytest.raises(ValueError, match="Train & pulse arrays don't match"):
        det.write_frames(tmp_path / "x.h5", np.array([1, 2]), np.array([1]))


def test_plot_data_counts(open_) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    det = quiet(AGIPD1M, open_("gaps"))
    ax = det.plot_data_counts()
    image = ax.get_images()[0].get_array()
    assert image.shape == (16, 6)
    assert image[0].tolist() == [4] * 6  # module 0 has 4 frames in every train
    assert image[3].tolist()[2:4] == [0, 0]  # module 3 misses two trains
    assert image[1].mask.all()  # a module that never recorded: empty
    assert ax.get_title() == "SPB_DET_AGIPD1M-1: data counts"
    plt.close("all")
