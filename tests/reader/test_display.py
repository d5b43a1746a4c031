"""DataCollection.info(), detector_info() and train_info(): EXtra-data's text, from metadata only.

The expected listings are what EXtra-data 1.25 prints for the same generated
run (recorded once, side by side), so a user comparing the two sees no difference.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from extra_catalog.reader.display import NameGroup, split_source_name

PLAIN = [
    "# of trains:    10",
    "Duration:       0:00:01.0",
    "First train ID: 10000",
    "Last train ID:  10009",
    "",
    "2 XTDF detector modules of SPB_DET_AGIPD1M-1/DET/*",
    "  e.g. module 0 : 4 x 4 pixels",
    "  SPB_DET_AGIPD1M-1/DET/0CH0:xtdf",
    "  4 frames per train, up to 40 frames total",
    "",
    "3 instrument sources (excluding XTDF detectors):",
    "  - SA1_XTD2_XGM/DOOCS/MAIN:output",
    "  - SPB_IRU_SIDEMIC_CAM/CAM/1:daqOutput",
    "  - SPB_XTD9_XGM/DOOCS/MAIN:output",
    "",
    "11 control sources:",
    "  - SA1_XTD2_XGM/DOOCS/MAIN",
    "  - SPB_DA1_CTRL/DEV/D{000-001}",
    "  - SPB_DA2_CTRL/DEV/D{000-001}",
    "  - SPB_IRU_MOTORS/MOTOR/{X, Y, Z}",
    "  - SPB_IRU_SIDEMIC_CAM/CAM/1",
    "  - SPB_RR_SYS/MDL/RUN_INFO",
    "  - SPB_XTD9_XGM/DOOCS/MAIN",
    "",
    "1 legacy source names:",
    " - OLD_XGM/DOOCS/MAIN:output -> SA1_XTD2_XGM/DOOCS/MAIN:output",
    "",
]

DETAILS = [
    "# of trains:    10",
    "Duration:       0:00:01.0",
    "First train ID: 10000",
    "Last train ID:  10009",
    "",
    "5 instrument sources:",
    "  - SA1_XTD2_XGM/DOOCS/MAIN:output",
    "  - SPB_DET_AGIPD1M-1/DET/{0-1}CH0:xtdf",
    "  - SPB_IRU_SIDEMIC_CAM/CAM/1:daqOutput ",
    "    - data:",
    "      data for 10 trains (100.00%), 1 entries per train",
    "      - data.image.dims\t[uint64, entry shape (2,)]",
    "      - data.image.pixels\t[uint16, entry shape (32, 40)]",
    "      - data.trainId\t[uint64]",
    "    - header:",
    "      data for 10 trains (100.00%), 1 entries per train",
    "      - header.frameNumber\t[uint64]",
    "      - header.trainId\t[uint64]",
    "  - SPB_XTD9_XGM/DOOCS/MAIN:output",
    "",
    "11 control sources:",
    "  - SA1_XTD2_XGM/DOOCS/MAIN ",
    "    - Control keys (1 entry per train):",
    "      - beamPosition.ixPos\t[float32]",
    "      - beamPosition.iyPos\t[float32]",
    "      - pulseEnergy.numberOfBunches\t[float32]",
    "      - pulseEnergy.photonFlux\t[float32]",
    "      - pulseEnergy.wavelengthUsed\t[float32]",
    "    - Additional run keys (1 entry per run):",
    "      - classId\t[string]",
    "      - deviceId\t[string]",
    "  - SPB_DA1_CTRL/DEV/D{000-001}",
    "  - SPB_DA2_CTRL/DEV/D{000-001}",
    "  - SPB_IRU_MOTORS/MOTOR/{X, Y, Z}",
    "  - SPB_IRU_SIDEMIC_CAM/CAM/1",
    "  - SPB_RR_SYS/MDL/RUN_INFO",
    "  - SPB_XTD9_XGM/DOOCS/MAIN",
    "",
    "1 legacy source names:",
    " - OLD_XGM/DOOCS/MAIN:output -> SA1_XTD2_XGM/DOOCS/MAIN:output",
    "",
]

COUNTS_AGGREGATORS = [
    "# of trains:    10",
    "Duration:       0:00:01.0",
    "First train ID: 10000",
    "Last train ID:  10009",
    "",
    "2 instrument sources:",
    "  - [DA01] SA1_XTD2_XGM/DOOCS/MAIN:output ",
    "    data for 10 trains (100.00%), 1 entries per train",
    "  - [DA01] SPB_XTD9_XGM/DOOCS/MAIN:output ",
    "    data for 10 trains (100.00%), 1 entries per train",
    "",
    "2 control sources:",
    "  - [DA01] SA1_XTD2_XGM/DOOCS/MAIN ",
    "  - [DA01] SPB_XTD9_XGM/DOOCS/MAIN ",
    "",
    "1 legacy source names:",
    " - OLD_XGM/DOOCS/MAIN:output -> SA1_XTD2_XGM/DOOCS/MAIN:output",
    "",
]


def _write_run(path: Path) -> Path:
    """The run the expected listings above were recorded from."""
    from extra_catalog.testing import write_run

    write_run(path, detector="AGIPD1M", n_modules=2, frame_shape=(4, 4), n_trains=10,
              frames_per_train=4, n_control_sources=2,
              legacy_names={"OLD_XGM/DOOCS/MAIN:output": "SA1_XTD2_XGM/DOOCS/MAIN:output"})
    return path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_run(tmp_path_factory.mktemp("display") / "r0001")


def _printed(capsys: pytest.CaptureFixture[str], call) -> list[str]:
    call()
    return capsys.readouterr().out.split("\n")[:-1]


def test_info_plain(run_dir: Path, capsys) -> None:
    from extra_catalog import RunDirectory

    assert _printed(capsys, RunDirectory(str(run_dir)).info) == PLAIN


def test_info_details_for_sources(run_dir: Path, capsys) -> None:
    from extra_catalog import RunDirectory

    run = RunDirectory(str(run_dir))
    lines = _printed(capsys, lambda: run.info(details_for_sources=["SA1*MAIN", "*CAM*:*"]))
    assert lines == DETAILS


def test_info_counts_and_aggregators_of_a_selection(run_dir: Path, capsys) -> None:
    from extra_catalog import RunDirectory

    run = RunDirectory(str(run_dir)).select("*XGM*")
    lines = _printed(capsys, lambda: run.info(counts=True, with_aggregators=True))
    assert lines == COUNTS_AGGREGATORS


def test_info_of_no_trains(run_dir: Path, capsys) -> None:
    from extra_catalog import RunDirectory

    lines = _printed(capsys, RunDirectory(str(run_dir)).select_trains(np.s_[:0]).info)
    assert lines[:4] == ["# of trains:    0", "Duration:       0.0", "First train ID: -",
                         "Last train ID:  -"]
    assert "  4 frames per train, up to 0 frames total" in lines


def test_info_from_the_catalogue_opens_no_file(tmp_path: Path, capsys) -> None:
    from extra_catalog import RunDirectory
    from extra_catalog.catalog import init_catalog, open_catalog
    from extra_catalog.fileaccess import hdf5_open_count
    from extra_catalog.index.crawler import CrawlOptions, crawl

    # A run of its own: no FileAccess of it is registered before the crawl.
    run_dir = _write_run(tmp_path / "r0001")
    url = str(tmp_path / "catalog.sqlite")
    init_catalog(url)
    with open_catalog(url) as cat:
        crawl(cat, [run_dir], CrawlOptions(settle=0, processes=1))
    before = hdf5_open_count()
    run = RunDirectory(run_dir, catalog=url)
    run.info(details_for_sources=["*"], counts=True)
    run.info(with_aggregators=True)
    run.train_info(10002)
    run.info()
    assert hdf5_open_count() == before
    assert capsys.readouterr().out.split("\n")[:-1][-len(PLAIN):] == PLAIN


def test_detector_info_and_train_info(run_dir: Path, capsys) -> None:
    from extra_catalog import RunDirectory

    run = RunDirectory(str(run_dir))
    info = run.detector_info("SPB_DET_AGIPD1M-1/DET/1CH0:xtdf")
    assert info == {"dims": (4, 4), "frames_per_train": 4, "total_frames": 40}
    lines = _printed(capsys, lambda: run.select("*XGM*").train_info(10003))
    # Every source of the files holding the train, as EXtra-data lists them.
    assert lines == ["Train [10003] information", "Devices", "\tInstruments",
                     "\t- OLD_XGM/DOOCS/MAIN:output", "\t- SA1_XTD2_XGM/DOOCS/MAIN:output",
                     "\t- SPB_IRU_SIDEMIC_CAM/CAM/1:daqOutput",
                     "\t- SPB_XTD9_XGM/DOOCS/MAIN:output", "\tControls",
                     "\t- SA1_XTD2_XGM/DOOCS/MAIN", "\t- SPB_DA1_CTRL/DEV/D000",
                     "\t- SPB_DA1_CTRL/DEV/D001", "\t- SPB_IRU_SIDEMIC_CAM/CAM/1",
                     "\t- SPB_RR_SYS/MDL/RUN_INFO", "\t- SPB_XTD9_XGM/DOOCS/MAIN"]
    with pytest.raises(ValueError, match="train 1 not found in run"):
        run.train_info(1)


@pytest.mark.parametrize("names,shown", [
    (["A/DEV/D000", "A/DEV/D001", "A/DEV/D002"], ["A/DEV/D{000-002}"]),
    (["M/MOTOR/X", "M/MOTOR/Y", "M/MOTOR/Z"], ["M/MOTOR/{X, Y, Z}"]),
    (["DET/1CH0:xtdf", "DET/2CH0:xtdf", "DET/3CH0:xtdf", "DET/5CH0:xtdf"],
     ["DET/{1-3, 5}CH0:xtdf"]),
    # Long words are fixed text: CAM and MIC are different devices.
    (["X/Y/CAM", "X/Y/MIC"], ["X/Y/CAM", "X/Y/MIC"]),
    # A third name changing another piece starts a new group.
    (["A1/B1", "A1/B2", "A1/B3", "A2/B3"], ["A1/B{1-3}", "A2/B3"]),
    (["SA1_XTD2_XGM/DOOCS/MAIN", "SPB_XTD9_XGM/DOOCS/MAIN"],
     ["SA1_XTD2_XGM/DOOCS/MAIN", "SPB_XTD9_XGM/DOOCS/MAIN"]),
])
def test_name_groups(names: list[str], shown: list[str]) -> None:
    groups: list[NameGroup] = []
    for name in names:
        if not groups or not groups[-1].add(name):
            groups.append(NameGroup())
            groups[-1].add(name)
    assert [str(g) for g in groups] == shown


def test_split_source_name_alternates_fixed_and_variable_parts() -> None:
    assert split_source_name("SPB_DA1_CTRL/DEV/D000") == [
        "", "SPB", "_", "DA", "", "1", "_", "CTRL", "/DEV/", "D", "", "000", ""]
    assert split_source_name("SPB_IRU_MOTORS/MOTOR/X")[-2:] == ["X", ""]
    assert split_source_name("A/CAM:output")[-3:] == ["/CAM:", "output", ""]
