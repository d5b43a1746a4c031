"""The aligned tables the commands print."""

from extra_catalog.cli._table import format_table


def test_numbers_right_text_left_and_missing_as_dash():
    text = format_table(["run", "sample", "note"], [(1, "Lysozyme", None), (12, None, None)])
    assert text.splitlines() == [
        "run  sample    note",
        "  1  Lysozyme  -",
        " 12  -         -",
    ]


def test_header_only():
    assert format_table(["a", "bb"], []) == "a  bb"
