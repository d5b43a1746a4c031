"""Where a file's data is stored: dCache's answer for one file.

dCache (the storage behind ``/pnfs`` and the older EuXFEL proposals) answers
questions about a file through *pseudo-files*: reading
``<dir>/.(get)(<name>)(locality)`` gives the state of ``<dir>/<name>``,
``ONLINE`` (on disk), ``NEARLINE`` (only on tape: reading it would stage it,
which takes minutes to hours), ``ONLINE_AND_NEARLINE``, ``UNAVAILABLE``
(lost or on a pool that is down)... A file with no such pseudo-file is not on
dCache (GPFS): always on disk.

This module has the constants and codes EXtra-data's ``extra_data.locality``
uses, and the one small read of a pseudo-file. It never times out by itself:
callers that must not hang read it in a worker process (the crawler) or a
thread (:mod:`extra_catalog.locality`).
"""

from __future__ import annotations

import os
import sys

__all__ = [
    "UNAVAIL",
    "ONTAPE",
    "ONDISK",
    "ANY",
    "NOT_ON_DCACHE",
    "TIMEOUT",
    "ERROR",
    "DC_LOC_RESP",
    "LOCMSG",
    "ON_DISK_STATES",
    "PSEUDO_PREFIX",
    "pseudo_path",
    "is_pseudo_name",
    "read_locality",
    "locality_code",
    "locality_message",
    "report_skipped",
]

#: Codes of what a locality allows, combined as a bit mask in ``lc_match``.
UNAVAIL = 1
ONTAPE = 2
ONDISK = 4
ANY = UNAVAIL | ONTAPE | ONDISK

#: The state of a file that has no locality pseudo-file: not on dCache.
NOT_ON_DCACHE = "NOT_ON_DCACHE"
#: State of a file whose locality gave no answer in time (an unknown locality).
TIMEOUT = "TIMEOUT"
#: State of a file whose pseudo-file exists but could not be read (unknown locality).
ERROR = "ERROR"

#: dCache's answers (and :data:`NOT_ON_DCACHE`) and their codes; any other
#: answer is an unknown locality, code 0.
DC_LOC_RESP: dict[str, int] = {
    "UNAVAILABLE": UNAVAIL,
    "NEARLINE": ONTAPE,
    "ONLINE": ONDISK,
    "ONLINE_AND_NEARLINE": ONTAPE | ONDISK,
    NOT_ON_DCACHE: ONDISK,
}

#: What a code means, as printed when a filter skips a file.
LOCMSG: dict[int, str] = {
    0: "Unknown locality",
    UNAVAIL: "Unavailable",
    ONTAPE: "Only on tape",
    ONDISK: "On disk",
    ONTAPE | ONDISK: "On disk",
}

#: States whose data can be read now without staging from tape.
ON_DISK_STATES = frozenset(state for state, code in DC_LOC_RESP.items() if code & ONDISK)

#: Names starting like this in a dCache directory are pseudo-files, not data.
PSEUDO_PREFIX = ".("


def pseudo_path(path: str | os.PathLike[str]) -> str:
    """The dCache pseudo-file that tells the locality of *path*."""
    folder, name = os.path.split(os.fspath(path))
    return os.path.join(folder, f".(get)({name})(locality)")


def is_pseudo_name(name: str) -> bool:
    """Whether a directory entry is a dCache pseudo-file (``.(get)(...)...``).

    dCache never lists them; trees that simulate dCache with real files do.
    """
    return name.startswith(PSEUDO_PREFIX)


def read_locality(path: str | os.PathLike[str]) -> str:
    """The locality state of *path*: dCache's answer, or :data:`NOT_ON_DCACHE`.

    One small read, which can block for as long as dCache takes to answer.

    Raises
    ------
    OSError
        The pseudo-file exists but cannot be read (other than not existing).
    """
    try:
        with open(pseudo_path(path), encoding="ascii", errors="replace") as f:
            return f.read(256).strip()
    except FileNotFoundError:
        return NOT_ON_DCACHE


def locality_code(state: str | None) -> int:
    """The code of a state (0 for an unknown or missing state)."""
    return DC_LOC_RESP.get(state, 0) if state is not None else 0


def locality_message(code: int) -> str:
    """What a code means to a user (``'Only on tape'``...)."""
    return LOCMSG.get(code, LOCMSG[0])


def _skip_note(state: str, timeout: float | None) -> str:
    code = locality_code(state)
    if state == TIMEOUT:
        within = "" if timeout is None else f" within {timeout:g} s"
        return f"{LOCMSG[0]}: dCache gave no answer{within}"
    if state == ERROR:
        return f"{LOCMSG[0]}: its dCache pseudo-file could not be read"
    if code == 0:
        return f"{LOCMSG[0]}: {state!r}"
    return locality_message(code)


def report_skipped(path: object, state: str, timeout: float | None = None) -> None:
    """Say on stderr that a file is left out because of its locality, as EXtra-data does.

    ``Skipping file <path>`` and, indented in brackets, why (``Only on
    tape``, ``Unavailable``, ``Unknown locality...``).
    """
    print(f"Skipping file {path}", file=sys.stderr)
    print(f"  ({_skip_note(state, timeout)})", file=sys.stderr)
