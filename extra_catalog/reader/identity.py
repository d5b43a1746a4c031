"""Which runs a collection's data comes from.

EXtra-data cannot say which proposal and run a DataCollection holds; here
each file tells: METADATA ``proposalNumber`` / ``runNumber`` (format 1.0+),
else the facility path and the file name (``RAW-R0002-...``), and the data
category from the path (``raw``, ``proc``...) or the file name prefix.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from ..fileaccess import FileAccess

__all__ = ["RunIdentity", "run_identities"]

#: File name prefixes and the data folders they are written to.
_CATEGORY_FOLDERS = {"RAW": "raw", "CORR": "proc"}


class RunIdentity(NamedTuple):
    """One run: proposal number, run number and data folder (``'raw'``, ``'proc'``...).

    A field is None when neither the file's METADATA nor its path says it.
    """

    proposal: int | None
    run: int | None
    data: str | None


def _number(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def file_identity(fa: FileAccess) -> RunIdentity:
    """The run a file belongs to (from its catalogued or read METADATA and path)."""
    meta = fa.metadata()
    proposal = _number(meta.get("proposalNumber"))
    run = _number(meta.get("runNumber"))
    data = fa.storage_class or _CATEGORY_FOLDERS.get((fa.data_category or "").upper())
    return RunIdentity(proposal if proposal is not None else fa.proposal,
                       run if run is not None else fa.run, data)


def run_identities(files: Iterable[FileAccess]) -> tuple[RunIdentity, ...]:
    """The distinct runs of *files*, sorted (unknown fields last)."""
    found = {file_identity(fa) for fa in files}
    return tuple(sorted(found, key=lambda r: tuple((v is None, v or 0) for v in r)))
