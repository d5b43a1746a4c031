"""Pure format rules: source list entries and versions."""

from __future__ import annotations

import numpy as np
import pytest

from extra_catalog.exceptions import FileStructureError
from extra_catalog.fileaccess.format import (SourceEntry, flag_is_inverted, has_flag,
                                             normalise_version, parse_source_entry,
                                             parse_source_list, source_list_path)


@pytest.mark.parametrize("entry, expected", [
    ("CONTROL/SA1_XTD2_XGM/DOOCS/MAIN", SourceEntry("CONTROL", "SA1_XTD2_XGM/DOOCS/MAIN", "")),
    (b"INSTRUMENT/SPB_DET_AGIPD1M-1/DET/0CH0:xtdf/image",
     SourceEntry("INSTRUMENT", "SPB_DET_AGIPD1M-1/DET/0CH0:xtdf", "image")),
    ("INSTRUMENT/FXE_XAD/DIGI:channel_5.output/data",
     SourceEntry("INSTRUMENT", "FXE_XAD/DIGI:channel_5.output", "data")),
    ("INSTRUMENT/SHORT:out/data/sub", SourceEntry("INSTRUMENT", "SHORT:out", "data/sub")),
    ("ERRATA/TRAINS_OUTSIDE_BUFFER_RANGE/event",
     SourceEntry("ERRATA", "TRAINS_OUTSIDE_BUFFER_RANGE", "event")),
    ("REDUCTION/PULSE_REDUCTION/SPB_DET/DET/0CH0:xtdf/data",
     SourceEntry("REDUCTION", "PULSE_REDUCTION/SPB_DET/DET/0CH0:xtdf", "data")),
])
def test_entries_parse(entry: str | bytes, expected: SourceEntry) -> None:
    assert parse_source_entry(entry) == expected


@pytest.mark.parametrize("entry", ["", b"", "Karabo_TimerServer/Karabo_TimeServer"])
def test_padding_and_time_server_ignored(entry: str | bytes) -> None:
    assert parse_source_entry(entry) is None


def test_unknown_category_names_file_and_entry() -> None:
    with pytest.raises(FileStructureError, match=r"/x\.h5.*'BOGUS'"):
        parse_source_entry("BOGUS/dev/thing", "/x.h5")


def test_instrument_entry_without_group_rejected() -> None:
    with pytest.raises(FileStructureError, match="lacks"):
        parse_source_entry("INSTRUMENT/dev:out", "/x.h5")


def test_source_list_dedups_and_skips_padding() -> None:
    entries = np.array([b"CONTROL/A/B", b"INSTRUMENT/A/B:o/data", b"CONTROL/A/B", b"", b""])
    assert parse_source_list(entries) == [
        SourceEntry("CONTROL", "A/B", ""), SourceEntry("INSTRUMENT", "A/B:o", "data")]


def test_version_rules() -> None:
    assert normalise_version(None) == "0.5"
    assert normalise_version(np.array([b"1.1"])) == "1.1"
    assert normalise_version(b"1.3") == "1.3"
    assert normalise_version(np.array(["1.2"], dtype=object)) == "1.2"
    assert source_list_path("0.5") == "METADATA/dataSourceId"
    assert source_list_path("1.3") == "METADATA/dataSources/dataSourceId"
    assert not has_flag("0.5") and has_flag("1.0")
    assert flag_is_inverted("1.1")
    assert not any(flag_is_inverted(v) for v in ("1.0", "1.2", "1.3"))
