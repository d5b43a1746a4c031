"""What the crawler stores for text a database cannot take."""

from __future__ import annotations

from extra_catalog.index.extract import storable_record
from extra_catalog.records import FileRecord, KeyRecord, RunValueRecord, SourceRecord


def _record(source: str = "SPB_IRU/MOTOR/X", value: str = "ok", attr: str = "mm") -> FileRecord:
    src = SourceRecord(source, "CONTROL",
                       keys=(KeyRecord("actualPosition.value", "<f8", (), 5,
                                       attrs=(("unitSymbol", attr),)),),
                       run_values=(RunValueRecord("sample.value", "|O", (), value),))
    return FileRecord("/x/RAW-R0001-DA01-S00000.h5", 1, 1.0, 1, "1.3", b"", b"",
                      metadata=(("sample", value),), sources=(src,))


def test_clean_records_pass_unchanged():
    record = _record()
    assert storable_record(record) == record


def test_undecodable_values_are_kept_with_escapes():
    bad = b"Lys\xe9zyme".decode("utf-8", "surrogateescape")
    cleaned = storable_record(_record(value=bad, attr="a\0b"))
    (src,) = cleaned.sources
    assert src.run_values[0].value == "Lys\\xe9zyme"
    assert src.keys[0].attrs == (("unitSymbol", "a\\x00b"),)
    assert cleaned.metadata == (("sample", "Lys\\xe9zyme"),)


def test_an_undecodable_name_is_reported():
    bad = b"SPB_\xff/MOTOR".decode("utf-8", "surrogateescape")
    assert storable_record(_record(source=bad)) == bad
