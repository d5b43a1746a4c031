"""Pure rules of the EuXFEL file format: sections, source lists and versions.

Nothing here touches HDF5; the functions take the values read from a file
(strings, version text) and say what they mean, so they can be tested on
their own and reused by the crawler and the validation code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..exceptions import FileStructureError
from ..records import SECTIONS

__all__ = [
    "SECTIONS",
    "AUX_SECTIONS",
    "FORMAT_VERSIONS",
    "SourceEntry",
    "parse_source_entry",
    "parse_source_list",
    "source_list_path",
    "normalise_version",
    "has_flag",
    "flag_is_inverted",
    "has_timestamps",
]

#: Auxiliary sections (format 1.3+), listed in ``METADATA/auxiliarySources``.
AUX_SECTIONS = ("REDUCTION", "ERRATA")

#: Format versions this package knows. Others are read like 1.0.
FORMAT_VERSIONS = ("0.5", "1.0", "1.1", "1.2", "1.3")

# A virtual source written by some 1.1-era DAQ versions; not a data source.
_IGNORED_CATEGORIES = frozenset({"Karabo_TimerServer"})


@dataclass(frozen=True)
class SourceEntry:
    """One parsed ``dataSourceId`` entry.

    Attributes
    ----------
    section : str
        ``'CONTROL'``, ``'INSTRUMENT'``, ``'REDUCTION'`` or ``'ERRATA'``.
    source : str
        Source name (``'SA1_XTD2_XGM/DOOCS/MAIN'``, ``'SPB_DET/DET/0CH0:xtdf'``).
    group : str
        Index group (``'image'``, ``'data'``...), ``''`` for CONTROL.
    """

    section: str
    source: str
    group: str


def parse_source_entry(entry: str | bytes, path: str = "") -> SourceEntry | None:
    """Parse one ``dataSourceId`` entry.

    Parameters
    ----------
    entry : str or bytes
        ``'CONTROL/<device>'`` or ``'INSTRUMENT/<device>:<channel>/<group>'``
        (auxiliary sections like INSTRUMENT).
    path : str
        File the entry comes from, used only in error messages.

    Returns
    -------
    SourceEntry or None
        None for entries to ignore: empty padding and
        ``Karabo_TimerServer/...`` entries.

    Raises
    ------
    FileStructureError
        For an unknown category or an instrument entry without a group.
    """
    if isinstance(entry, bytes):
        entry = entry.decode("utf-8", "surrogateescape")
    if not entry:
        return None
    category, _, rest = entry.partition("/")
    if category in _IGNORED_CATEGORIES:
        return None
    if category not in SECTIONS:
        raise FileStructureError(
            f"{path}: unknown data category {category!r} in source list entry {entry!r}"
        )
    if category == "CONTROL":
        return SourceEntry("CONTROL", rest, "")
    source, group = _split_source_group(rest)
    if not source or not group:
        raise FileStructureError(
            f"{path}: source list entry {entry!r} lacks a '<source>/<group>' part"
        )
    return SourceEntry(category, source, group)


def _split_source_group(rest: str) -> tuple[str, str]:
    # The device part may contain '/', the channel may contain '.', so the
    # group starts at the first '/' after the first ':'. Auxiliary sources
    # may have no channel; then only the last component is the group.
    device, colon, after = rest.partition(":")
    if colon:
        channel, _, group = after.partition("/")
        return f"{device}:{channel}", group
    source, _, group = rest.rpartition("/")
    return source, group


def parse_source_list(entries: Iterable[str | bytes], path: str = "") -> list[SourceEntry]:
    """Parse a whole source list, skipping padding and ignored entries.

    Duplicate entries are kept once, in their first position.
    """
    seen: dict[SourceEntry, None] = {}
    for entry in entries:
        parsed = parse_source_entry(entry, path)
        if parsed is not None:
            seen.setdefault(parsed, None)
    return list(seen)


def source_list_path(format_version: str) -> str:
    """HDF5 path of the ``dataSourceId`` list for a format version."""
    if format_version == "0.5":
        return "METADATA/dataSourceId"
    return "METADATA/dataSources/dataSourceId"


def normalise_version(raw: object | None) -> str:
    """Format version text from the raw ``METADATA/dataFormatVersion`` value.

    Parameters
    ----------
    raw
        The dataset's content (a 1-element array of bytes or str, a bare
        bytes/str), or None when the dataset is absent (format 0.5).
    """
    if raw is None:
        return "0.5"
    value = raw
    while not isinstance(value, (bytes, str)):
        try:
            value = value[0]  # type: ignore[index]
        except (TypeError, IndexError):
            return str(value)
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value.strip().rstrip("\x00") or "0.5"


def has_flag(format_version: str) -> bool:
    """Whether files of this version carry ``INDEX/flag``."""
    return format_version != "0.5"


def flag_is_inverted(format_version: str) -> bool:
    """Whether ``INDEX/flag`` holds 0 for good trains (format 1.1)."""
    return format_version == "1.1"


def has_timestamps(format_version: str) -> bool:
    """Whether files of this version carry ``INDEX/timestamp``."""
    return format_version != "0.5"
