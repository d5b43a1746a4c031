"""Loading a catalogued run in two steps: its files now, its sources' details when used.

Opening a run needs each file's train IDs, validity flags and source names,
not the keys, INDEX arrays and RUN values of its ~2,000 file sources (a
528-file run stores ~10,000 RUN values). :func:`load_run_outline` leaves
those out; :func:`load_source_details` fetches them for the sources a user
actually touches, in a few statements whatever the number of files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy import LargeBinary, select, text

from ..records import SourceRecord
from ._read import assemble_sources, load_run_record
from .models import RunOutline
from .outline import OUTLINE_FORMAT, OutlineError, decode_outline
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
        stored = session.execute(select(RunOutline.format, RunOutline.blob)
                                 .where(RunOutline.run_id == run.id)).first()
        if stored is not None and stored.format == OUTLINE_FORMAT:
            try:
                return decode_outline(stored.blob)
            except OutlineError:
                pass  # damaged: the tables are the truth
        return load_run_record(session, run, proposal, details=False)


def load_source_details(target: Target, key: str | os.PathLike[str],
                        source: str | None = None) -> dict[str, FileSources]:
    """Complete records of one source (default: every source) in the files of a run.

    Parameters
    ----------
    target : Catalog or Session
    key : path
        The run directory.
    source : str, optional
        A source name; None for every source.

    Returns
    -------
    dict of str to FileSources
        By file name, for the readable files that have the source (any
        source); empty if the run is not stored.
    """
    chosen = {"path": os.path.normpath(os.fspath(key))}
    if source is not None:
        chosen["name"] = source
    with _unit(target, write=False) as session:
        execute = session.connection().execute
        source_rows = execute(_SOURCES_OF_ONE if source else _SOURCES_OF_ALL, chosen).all()
        if source is None:  # the whole run: select the rest through the run
            rest = [execute(_IN_WHOLE_RUN[table], chosen).all() for table in _TABLES]
        else:  # a few files: select the rest by id
            ids = {"keys": {r.keyset_id for r in source_rows},
                   "values": {r.runvalue_set_id for r in source_rows} - {None},
                   "groups": {r.id for r in source_rows}}
            rest = [execute(_by_ids(table, ids[table])).all() if ids[table] else []
                    for table in _TABLES]
    by_id = assemble_sources(source_rows, *rest)
    out: dict[str, FileSources] = {}
    for row in source_rows:
        if row.file_name not in out:
            out[row.file_name] = FileSources(
                (row.size, row.mtime, row.inode),
                {rec.name: rec for rec in by_id.get(row.file_id, ())})
    return out


# Plain SQL: these run on the first use of each source, often the first in the
# process, where compiling the equivalent select() constructs would cost more
# than running them. Names are quoted where they are also SQL words.
_FILE_SOURCES = (
    "SELECT fs.id, fs.file_id, fs.section, fs.keyset_id, fs.runvalue_set_id, fs.key_lengths, "
    "s.name, f.name AS file_name, f.size, f.mtime, f.inode "
    "FROM runs r JOIN files f ON f.run_id = r.id JOIN file_sources fs ON fs.file_id = f.id "
    "JOIN sources s ON s.id = fs.source_id "
    "WHERE r.path = :path AND f.state <> 'unreadable'")
_SOURCES_OF_ALL = text(_FILE_SOURCES + " ORDER BY fs.file_id, fs.position").columns(inode=UInt64)
# The unary + keeps SQLite from starting at the source's rows in every run of
# the catalogue (ix_file_sources_source_id): the run's own files are far fewer.
_SOURCES_OF_ONE = text(
    _FILE_SOURCES + " AND +fs.source_id = (SELECT id FROM sources WHERE name = :name) "
    "ORDER BY fs.file_id, fs.position").columns(inode=UInt64)

_TABLES = ("keys", "values", "groups")
_SELECT = {
    "keys": ("SELECT k.keyset_id, k.position, k.name, k.dtype, k.entry_shape, k.chunks, "
             "k.compression, k.compression_opts, k.shuffle, k.attrs FROM keyset_keys k "
             "WHERE k.keyset_id IN ({}) ORDER BY k.keyset_id, k.position"),
    "values": ('SELECT v.set_id, v.position, v."key", v.dtype, v.shape, v.kind, v.value_int, '
               "v.value_float, v.value_str, v.summary FROM run_values v "
               "WHERE v.set_id IN ({}) ORDER BY v.set_id, v.position"),
    "groups": ('SELECT g.file_source_id, g.position, g.name, g."first", g."count" '
               "FROM index_groups g WHERE g.file_source_id IN ({}) "
               "ORDER BY g.file_source_id, g.position"),
}
_TYPES: dict[str, dict[str, Any]] = {"keys": {}, "values": {},
                                     "groups": {"first": LargeBinary, "count": LargeBinary}}
_RUN_FILE_SOURCES = ("SELECT fs.{} FROM runs r JOIN files f ON f.run_id = r.id "
                     "JOIN file_sources fs ON fs.file_id = f.id "
                     "WHERE r.path = :path AND f.state <> 'unreadable'")
_IN_WHOLE_RUN = {
    table: text(_SELECT[table].format(_RUN_FILE_SOURCES.format(column))).columns(**_TYPES[table])
    for table, column in zip(_TABLES, ("keyset_id", "runvalue_set_id", "id"))}


def _by_ids(table: str, ids: set[int]) -> Any:
    """The rows of *table* for some ids, written into the statement.

    The ids are the database's own integers (``int()`` makes sure): a
    literal list spares a bound parameter per id, whose handling on first
    use costs more than the query.
    """
    listed = ",".join(str(int(i)) for i in sorted(ids))
    return text(_SELECT[table].format(listed)).columns(**_TYPES[table])
