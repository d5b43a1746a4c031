"""Loading a catalogued run in two steps: its files now, its sources' details when used.

Opening a run needs each file's train IDs, validity flags and source names,
not the keys, INDEX arrays and RUN values of its ~2,000 file sources (a
528-file run stores ~10,000 RUN values). :func:`load_run_outline` leaves
those out; :func:`load_source_details` fetches them for the sources a user
actually touches, in a few statements whatever the number of files.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import LargeBinary, bindparam, text

from ..records import SourceRecord
from ._read import assemble_sources, load_run_record
from .records import FileStat, RunRecord
from .store import RunKey, Target, _require_run, _unit
from .types import UInt64

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


def load_source_details(target: Target, key: str | os.PathLike[str],
                        sources: Collection[str] | None = None) -> dict[str, FileSources]:
    """Complete records of *sources* (default: all) in the files of a run.

    Parameters
    ----------
    target : Catalog or Session
    key : path
        The run directory.
    sources : collection of str, optional
        Source names; None for every source.

    Returns
    -------
    dict of str to FileSources
        By file name, for the readable files that have any of *sources*;
        empty if the run is not stored.
    """
    chosen = {"path": os.path.normpath(os.fspath(key))}
    if sources is not None:
        chosen["names"] = sorted(sources)
    statements = _statements(sources is not None)
    with _unit(target, write=False) as session:
        execute = session.connection().execute
        source_rows = execute(statements["sources"], chosen).all()
        by_id = assemble_sources(source_rows, execute(statements["keys"], chosen).all(),
                                 execute(statements["values"], chosen).all(),
                                 execute(statements["groups"], chosen).all())
    out: dict[str, FileSources] = {}
    for row in source_rows:
        if row.file_name not in out:
            out[row.file_name] = FileSources(
                (row.size, row.mtime, row.inode),
                {rec.name: rec for rec in by_id.get(row.file_id, ())})
    return out


# Plain SQL: these run on the first use of each source, often the first in the
# process, where compiling the equivalent select() constructs cost more than
# running them. Names are quoted where they are also SQL words.
_IN_RUN = ("FROM runs r JOIN files f ON f.run_id = r.id "
           "JOIN file_sources fs ON fs.file_id = f.id "
           "JOIN sources s ON s.id = fs.source_id "
           "WHERE r.path = :path AND f.state <> 'unreadable'")


@functools.cache
def _statements(by_name: bool) -> dict[str, Any]:
    where = _IN_RUN + (" AND s.name IN :names" if by_name else "")

    def statement(sql: str, **types: Any) -> Any:
        clause = text(sql)
        if by_name:
            clause = clause.bindparams(bindparam("names", expanding=True))
        return clause.columns(**types) if types else clause

    return {
        "sources": statement(
            "SELECT fs.id, fs.file_id, fs.section, fs.keyset_id, fs.runvalue_set_id, "
            "fs.key_lengths, s.name, f.name AS file_name, f.size, f.mtime, f.inode "
            f"{where} ORDER BY fs.file_id, fs.position", inode=UInt64),
        "keys": statement(
            "SELECT k.keyset_id, k.position, k.name, k.dtype, k.entry_shape, k.chunks, "
            "k.compression, k.compression_opts, k.shuffle, k.attrs FROM keyset_keys k "
            f"WHERE k.keyset_id IN (SELECT fs.keyset_id {where}) "
            "ORDER BY k.keyset_id, k.position"),
        "values": statement(
            'SELECT v.set_id, v.position, v."key", v.dtype, v.shape, v.kind, v.value_int, '
            "v.value_float, v.value_str, v.summary FROM run_values v "
            f"WHERE v.set_id IN (SELECT fs.runvalue_set_id {where}) "
            "ORDER BY v.set_id, v.position"),
        "groups": statement(
            'SELECT g.file_source_id, g.position, g.name, g."first", g."count" '
            f"FROM index_groups g WHERE g.file_source_id IN (SELECT fs.id {where}) "
            "ORDER BY g.file_source_id, g.position", first=LargeBinary, count=LargeBinary),
    }
