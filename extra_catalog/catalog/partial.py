"""Loading a catalogued run in two steps: its files now, its sources' details when used.

Opening a run needs each file's train IDs, validity flags and source names,
not the keys, INDEX arrays and RUN values of its ~2,000 file sources (a
528-file run stores ~10,000 RUN values). :func:`load_run_outline` leaves
those out; :func:`load_source_details` fetches them for the sources a user
actually touches, in a few statements whatever the number of files.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select

from ..records import SourceRecord
from ._read import load_run_record, load_source_records
from .models import File
from .records import FileStat, RunRecord
from .store import RunKey, Target, _require_run, _unit

__all__ = ["FileSources", "load_run_outline", "load_source_details"]


@dataclass(frozen=True)
class FileSources:
    """Complete records of some sources of one stored file.

    Attributes
    ----------
    stat : tuple of (int, float, int)
        The file's (size, mtime, inode) when it was catalogued: compare it
        with what the records are used for, the file may have been crawled
        again since.
    sources : dict of str to SourceRecord
        By source name; the requested sources this file has.
    """

    stat: FileStat
    sources: dict[str, SourceRecord]


def load_run_outline(target: Target, key: RunKey) -> RunRecord:
    """A run's records with name-and-section :class:`SourceRecord` objects only.

    Everything else (files, train IDs, validity, METADATA, legacy names,
    problems) is as :func:`~extra_catalog.catalog.load_run` gives it.

    Raises
    ------
    CatalogError
        The run is not in the catalogue.
    """
    with _unit(target, write=False) as session:
        run, proposal = _require_run(session, key)
        return load_run_record(session, run, proposal, details=False)


def load_source_details(target: Target, key: RunKey,
                        sources: Collection[str] | None = None) -> dict[str, FileSources]:
    """Complete records of *sources* (default: all) in every file of a run.

    Returns
    -------
    dict of str to FileSources
        By file name, for every readable file of the run (with an empty
        ``sources`` where the file has none of them).

    Raises
    ------
    CatalogError
        The run is not in the catalogue.
    """
    with _unit(target, write=False) as session:
        run, _ = _require_run(session, key)
        files = session.execute(
            select(File.id, File.name, File.size, File.mtime, File.inode)
            .where(File.run_id == run.id, File.state != "unreadable")).all()
        by_id = load_source_records(session, run.id, sources)
        return {name: FileSources((size, mtime, inode),
                                  {rec.name: rec for rec in by_id.get(file_id, ())})
                for file_id, name, size, mtime, inode in files}
