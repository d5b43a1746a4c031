"""Path and file-name parsing."""

from __future__ import annotations

import pytest

from extra_catalog.fileaccess.paths import PathInfo, parse_file_name, parse_path


@pytest.mark.parametrize("path, expected", [
    ("/gpfs/exfel/exp/SPB/202601/p900001/raw/r0012/RAW-R0012-DA01-S00003.h5",
     PathInfo("raw", "SPB", "202601", 900001, 12, "RAW", "DA01", 3)),
    ("/gpfs/exfel/exp/FXE/202502/p002222/proc/r0001/CORR-R0001-AGIPD07-S00000.h5",
     PathInfo("proc", "FXE", "202502", 2222, 1, "CORR", "AGIPD07", 0)),
    ("/tmp/t/FXE/202502/p002222/proc/r0001/CORR-R0001-AGIPD07-S00000.h5",
     PathInfo(None, None, None, None, 1, "CORR", "AGIPD07", 0)),
    ("/gpfs/exfel/d/raw/MID/201901/p700000/r0100/RAW-R0100-JNGFR01-S00010.h5",
     PathInfo("raw", "MID", "201901", 700000, 100, "RAW", "JNGFR01", 10)),
    ("/pnfs/xfel.eu/exfel/archive/XFEL/raw/SQS/202301/p003000/r0005/RAW-R0005-DA02-S00001.h5",
     PathInfo("raw", "SQS", "202301", 3000, 5, "RAW", "DA02", 1)),
    ("/data/r0005/RAW-R0005-OVERVIEW.h5",
     PathInfo(None, None, None, None, 5, "RAW", "OVERVIEW", 0)),
    ("/gpfs/exfel/exp/SPB/202601/p900001/usr/.extra_data/RAW-R0003-DA01-S00000.h5",
     PathInfo("usr", "SPB", "202601", 900001, 3, "RAW", "DA01", 0)),
    ("/somewhere/else/data.h5", PathInfo()),
])
def test_parse_path(path: str, expected: PathInfo) -> None:
    assert parse_path(path) == expected


def test_run_from_directory_when_name_is_free_form() -> None:
    info = parse_path("/gpfs/exfel/exp/SPB/202601/p900001/raw/r0042/mydata.h5")
    assert (info.run, info.aggregator, info.sequence, info.proposal) == (42, None, None, 900001)


@pytest.mark.parametrize("path", [
    "/tmp/x/SPB/202601/p900001/raw/r0042/RAW-R0042-DA01-S00001.h5",
    "/exp/SPB/202601/p900001/raw/r0042/RAW-R0042-DA01-S00001.h5",
    "/data/raw/SPB/202601/p900001/r0042/RAW-R0042-DA01-S00001.h5",
])
def test_other_locations_are_not_euxfel_storage(path: str) -> None:
    # As in EXtra-data: facility fields only for EuXFEL storage locations;
    # the file name still gives category, run, aggregator and sequence.
    info = parse_path(path)
    assert (info.storage_class, info.instrument, info.cycle, info.proposal) == (None,) * 4
    assert (info.data_category, info.run, info.aggregator, info.sequence) == ("RAW", 42, "DA01", 1)


@pytest.mark.parametrize("name", ["RAW-R0001-DA01.h5", "RAW-R00x1-DA01-S00000.h5", "x.h5"])
def test_bad_names_give_nothing(name: str) -> None:
    assert parse_file_name(name) == {}
