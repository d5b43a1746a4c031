"""Per-file storage locality in the catalogue: written by the crawler, read by the reader.

The crawler asks dCache where each file it reads is stored (one small read
of a pseudo-file, see :mod:`extra_catalog.fileaccess.locality`) and records
the answer with the time of the check. The reader's locality file filters
(``file_filter=lc_ondisk``) answer from here without asking dCache again.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import bindparam, or_, select, update

from .engine import Catalog
from .models import File, Proposal, Run
from .store import Target, _unit

__all__ = ["FileLocality", "ON_DISK_LOCALITIES", "READABLE_STATES", "NOT_ON_DCACHE",
           "record_localities", "load_localities", "unchecked_files"]

#: Localities whose data can be read without staging from tape: the states
#: of :data:`extra_catalog.fileaccess.locality.ON_DISK_STATES` (a test checks
#: they agree; the catalogue does not import file access).
ON_DISK_LOCALITIES = ("NOT_ON_DCACHE", "ONLINE", "ONLINE_AND_NEARLINE")
#: The locality of a file that is not on dCache (GPFS): it never moves to tape.
NOT_ON_DCACHE = "NOT_ON_DCACHE"
#: File states of files that could be read when they were recorded.
READABLE_STATES = ("ok", "changed")


@dataclass(frozen=True)
class FileLocality:
    """What the catalogue knows about where one file is stored.

    Attributes
    ----------
    path : str
        Absolute path of the file.
    size, mtime, inode : int, float, int
        The file's ``stat`` when it was recorded (to tell whether the facts
        still describe the file on disk).
    state : str
        ``'ok'`` / ``'changed'`` (it could be read), ``'unreadable'``.
    locality : str or None
        dCache's answer when checked (``'ONLINE'``, ``'NEARLINE'``,
        ``'NOT_ON_DCACHE'``, ``'TIMEOUT'``...); None if never checked.
    checked_at : datetime or None
        When the crawler checked it (UTC); None if never checked.
    """

    path: str
    size: int
    mtime: float
    inode: int
    state: str
    locality: str | None
    checked_at: datetime | None

    @property
    def readable(self) -> bool:
        """Whether the file could be read when it was recorded."""
        return self.state in READABLE_STATES


def record_localities(target: Target | Catalog, run_path: str | os.PathLike[str],
                      localities: Mapping[str, str | None],
                      when: datetime | None = None) -> None:
    """Record the locality of stored files of a run, checked at *when* (default now).

    Parameters
    ----------
    target : Catalog or Session
        A session already writing the run keeps it one transaction.
    run_path : path
        The run directory.
    localities : mapping of str to str or None
        File name (or path) -> state; None records "not checked". Names
        not stored in the run are ignored.
    """
    when = when or datetime.now(timezone.utc)
    rows = [{"file_name": os.path.basename(name), "loc": state,
             "at": None if state is None else when} for name, state in localities.items()]
    if not rows:
        return
    run_id = (select(Run.id).where(Run.path == os.path.normpath(os.fspath(run_path)))
              .scalar_subquery())
    statement = (update(File).where(File.run_id == run_id, File.name == bindparam("file_name"))
                 .values(locality=bindparam("loc"), checked_at=bindparam("at")))
    with _unit(target, write=True) as session:
        # Core executemany: one statement, whatever the number of files.
        session.connection().execute(statement, rows)


def load_localities(target: Target | Catalog,
                    run_path: str | os.PathLike[str]) -> dict[str, FileLocality]:
    """``{file name: FileLocality}`` of a stored run; empty if the run is not stored."""
    run_dir = os.path.normpath(os.fspath(run_path))
    statement = (select(File.name, File.size, File.mtime, File.inode, File.state,
                        File.locality, File.checked_at)
                 .join(Run, Run.id == File.run_id).where(Run.path == run_dir))
    with _unit(target, write=False) as session:
        return {row.name: FileLocality(os.path.join(run_dir, row.name), row.size, row.mtime,
                                       row.inode, row.state, row.locality, row.checked_at)
                for row in session.execute(statement)}


def unchecked_files(target: Target | Catalog, roots: Sequence[str | os.PathLike[str]],
                    checked_before: datetime, *, categories: Collection[str] | None = None,
                    proposals: Collection[int] | None = None) -> dict[str, list[str]]:
    """``{run path: [file names]}`` whose locality may have changed since it was checked.

    Files of runs at or below *roots* that are on dCache (or whose locality
    was never recorded) and were last checked before *checked_before*. Files
    not on dCache (GPFS) never move to tape and are left out.
    """
    runs = select(Run.id).join(Proposal, Proposal.id == Run.proposal_id)
    below = []
    for root in roots:
        prefix = os.path.normpath(os.fspath(root))
        pattern = (prefix.rstrip(os.sep).replace("\\", "\\\\").replace("%", "\\%")
                   .replace("_", "\\_") + os.sep + "%")
        below.append(or_(Run.path == prefix, Run.path.like(pattern, escape="\\")))
    runs = runs.where(or_(*below))
    if categories is not None:
        runs = runs.where(Run.data_category.in_(sorted(categories)))
    if proposals is not None:
        runs = runs.where(Proposal.number.in_(sorted(proposals)))
    statement = (select(Run.path, File.name).join(Run, Run.id == File.run_id)
                 .where(File.run_id.in_(runs),
                        or_(File.locality.is_(None), File.locality != NOT_ON_DCACHE),
                        or_(File.checked_at.is_(None), File.checked_at < checked_before))
                 .order_by(Run.path, File.name))
    found: dict[str, list[str]] = {}
    with _unit(target, write=False) as session:
        for path, name in session.execute(statement):
            found.setdefault(path, []).append(name)
    return found
