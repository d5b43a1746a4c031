"""Ask dCache where a file is before reading it (in a crawler worker process).

Opening a file that dCache holds only on tape would stage it (minutes to
hours, and load on the tape system); opening one it reports unavailable
would hang or fail. So the worker first reads the file's locality
pseudo-file, one small read, and opens the file only when its data is on
disk. The answer travels with the result, so the catalogue can record it.
Everything here runs inside the crawler's per-file deadline: a pseudo-file
that hangs is a file that times out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..fileaccess.locality import ERROR as ERROR_STATE
from ..fileaccess.locality import ONDISK, locality_code, read_locality
from ..fileaccess.locality import TIMEOUT as TIMEOUT_STATE
from ..records import FileRecord, ProblemRecord

__all__ = ["CheckedFile", "read_checked", "LOCALITY_CHECKS", "LEFT_UNREAD_CHECKS",
           "ERROR_STATE", "TIMEOUT_STATE"]

#: Problem check names of files left unread because of their locality.
LOCALITY_CHECKS = {"NEARLINE": "on_tape", "UNAVAILABLE": "unavailable"}
_UNKNOWN_CHECK = "locality_unknown"
#: Problem check names of every file left unread because of where it is stored.
LEFT_UNREAD_CHECKS = frozenset({*LOCALITY_CHECKS.values(), _UNKNOWN_CHECK})


@dataclass(frozen=True)
class CheckedFile:
    """A worker's answer about one file: its record (or why not) and its locality."""

    result: FileRecord | ProblemRecord
    locality: str

    @property
    def left_unread(self) -> bool:
        """Whether the file was not opened because of its locality (check again later)."""
        return isinstance(self.result, ProblemRecord) and self.result.check in LEFT_UNREAD_CHECKS


def _why_not_read(path: str, state: str) -> ProblemRecord:
    later = "not read, and checked again by the next crawl"
    if state == "NEARLINE":
        return ProblemRecord(LOCALITY_CHECKS[state], f"{path}: dCache holds it only on tape "
                             f"(NEARLINE); {later} (reading it would stage it from tape)")
    if state == "UNAVAILABLE":
        return ProblemRecord(LOCALITY_CHECKS[state],
                             f"{path}: dCache reports it unavailable; {later}")
    return ProblemRecord(_UNKNOWN_CHECK, f"{path}: dCache reports an unknown locality "
                         f"{state!r}; {later}")


def read_checked(path: str, read: Callable[[str], FileRecord | ProblemRecord]) -> CheckedFile:
    """Read *path* with ``read(path)`` if its data is on disk; say why not otherwise."""
    try:
        state = read_locality(path)
    except OSError as exc:
        return CheckedFile(ProblemRecord(_UNKNOWN_CHECK, f"{path}: its dCache locality could "
                                         f"not be read ({exc.strerror or exc}); not read, and "
                                         "checked again by the next crawl"), ERROR_STATE)
    if not locality_code(state) & ONDISK:
        return CheckedFile(_why_not_read(path, state), state)
    return CheckedFile(read(path), state)
