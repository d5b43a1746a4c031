"""Pure parsing of what a data file's path and name say about it.

Run directories at EuXFEL sit either in
``/gpfs/exfel/exp/<INSTR>/<CYCLE>/p<PROPOSAL>/<class>/r<RUN>/`` (online GPFS)
or in ``/gpfs/exfel/d/<class>/<INSTR>/<CYCLE>/p<PROPOSAL>/r<RUN>/`` and
``/pnfs/xfel.eu/exfel/archive/XFEL/<class>/...`` (offline GPFS, dCache),
``<class>`` being ``raw``, ``proc``... Other locations give no facility
fields, as in EXtra-data (the crawler has its own, root-relative layout
rules in :mod:`extra_catalog.index.layout`). Directories named
``.extra_data`` replace ``r<RUN>`` for files that belong to no run. File
names are ``<CAT>-R<RUN>-<AGG>-S<SEQ>.h5``; a virtual overview file
``<CAT>-R<RUN>-OVERVIEW.h5`` has no sequence number (taken as 0).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

__all__ = ["PathInfo", "parse_path", "parse_file_name", "parse_run_dir"]

_RUN_PART = r"(?:r(?P<run>\d+)|\.extra_data)"
# Only EuXFEL storage locations count, as in EXtra-data: elsewhere (a copy in
# /tmp, a test directory) storage_class, instrument, cycle... are None.
# Online GPFS: /gpfs/exfel/exp/INSTR/CYCLE/pPROP/class/rRUN
_EXP_LAYOUT = re.compile(
    r"^/gpfs/exfel/exp/(?P<instr>[^/]+)/(?P<cycle>[^/]+)/p(?P<prop>\d+)/(?P<cls>[^/]+)/"
    + _RUN_PART + r"/?$"
)
# Offline GPFS and dCache: /gpfs/exfel/d/class/INSTR/CYCLE/pPROP/rRUN (or /pnfs/...)
_CLASS_FIRST_LAYOUT = re.compile(
    r"^/(?:gpfs/exfel/d|pnfs/xfel\.eu/exfel/archive/XFEL)/(?P<cls>[^/]+)/(?P<instr>[^/]+)/"
    r"(?P<cycle>[^/]+)/p(?P<prop>\d+)/" + _RUN_PART + r"/?$"
)
_FILE_NAME = re.compile(
    r"^(?P<cat>[A-Za-z]+)-R(?P<run>\d+)-(?P<agg>[A-Za-z0-9_]+?)(?:-S(?P<seq>\d+))?\.h5$"
)


@dataclass(frozen=True)
class PathInfo:
    """What a file's path says; each field None when the path does not say.

    Attributes
    ----------
    storage_class : str or None
        ``'raw'``, ``'proc'``... (the directory level above the run).
    instrument : str or None
        ``'SPB'``, ``'FXE'``...
    cycle : str or None
        ``'202601'``.
    proposal : int or None
    run : int or None
        From the file name, else from the run directory.
    data_category : str or None
        ``'RAW'`` or ``'CORR'`` (the file name prefix).
    aggregator : str or None
        ``'DA01'``, ``'AGIPD00'``, ``'OVERVIEW'``...
    sequence : int or None
        Sequence number; 0 for an overview file.
    """

    storage_class: str | None = None
    instrument: str | None = None
    cycle: str | None = None
    proposal: int | None = None
    run: int | None = None
    data_category: str | None = None
    aggregator: str | None = None
    sequence: int | None = None


def parse_run_dir(directory: str) -> dict[str, str | int | None]:
    """Facility-tree fields of a run directory (empty dict if it has none).

    Keys: ``storage_class, instrument, cycle, proposal, run``.
    """
    directory = directory.replace(os.sep, "/").rstrip("/")
    # The exp layout is tried first; a path fitting both is read as exp,
    # which is where the data lives on the facility's own file systems.
    for pattern in (_EXP_LAYOUT, _CLASS_FIRST_LAYOUT):
        m = pattern.search(directory)
        if m:
            run = m.group("run")
            return {
                "storage_class": m.group("cls"),
                "instrument": m.group("instr"),
                "cycle": m.group("cycle"),
                "proposal": int(m.group("prop")),
                "run": int(run) if run is not None else None,
            }
    return {}


def parse_file_name(name: str) -> dict[str, str | int | None]:
    """Fields of a data file name (empty dict if it does not follow the rule).

    Keys: ``data_category, run, aggregator, sequence``.
    """
    m = _FILE_NAME.match(os.path.basename(name))
    if not m:
        return {}
    seq = m.group("seq")
    agg = m.group("agg")
    if seq is None and agg.upper() != "OVERVIEW":
        return {}
    return {
        "data_category": m.group("cat"),
        "run": int(m.group("run")),
        "aggregator": agg,
        "sequence": int(seq) if seq is not None else 0,
    }


def parse_path(path: str) -> PathInfo:
    """Everything the path of a data file says about it.

    Parameters
    ----------
    path : str
        Path of the file, preferably absolute (resolve symlinks first if
        the facility layout is only visible in the real path).
    """
    fields: dict[str, str | int | None] = dict(parse_run_dir(os.path.dirname(path)))
    from_name = parse_file_name(path)
    for key, value in from_name.items():
        if value is not None:
            fields[key] = value
    return PathInfo(**fields)  # type: ignore[arg-type]
