"""The SQL of a run's source details, and the records its rows make.

Plain Python and plain SQL with ``:name`` parameters: the same statements run
through SQLAlchemy (:mod:`.partial`, any database) and through :mod:`sqlite3`
(:mod:`.quickread`, where opening a run must not import SQLAlchemy).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..records import IndexGroupRecord, KeyRecord, RunValueRecord, SourceRecord
from . import _encode as enc
from .records import FileStat

__all__ = ["FileSources", "Execute", "fetch_source_details", "assemble_sources",
           "UINT64_OFFSET"]

#: Stored UInt64 columns (inodes, train IDs) hold ``value - UINT64_OFFSET``.
UINT64_OFFSET = 2**63

#: Runs one statement with named parameters; returns rows with attribute access.
Execute = Callable[[str, dict[str, Any]], Sequence[Any]]


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


def fetch_source_details(execute: Execute, key: str | os.PathLike[str],
                         source: str | None = None, files: Sequence[str] | None = None, *,
                         json_lists: bool = False,
                         cache: RecordCache | None = None) -> dict[str, FileSources]:
    """Complete records of one source (None: every source) in the files of a run.

    Parameters
    ----------
    execute : callable
        Runs one statement (``:name`` parameters) and gives its rows.
    key : path
        The run directory.
    source : str, optional
        A source name; None for every source.
    files : sequence of str, optional
        With a source: the names of the files known to hold it (from the
        run's outline), so that only those are searched. Needs *json_lists*.
    json_lists : bool
        Pass lists of names and ids as one JSON parameter (SQLite's
        ``json_each``): every statement then has one text, prepared once
        per connection, however many files or ids it is run for.
    cache : RecordCache, optional
        Records shared with the other fetches for the same run.

    Returns
    -------
    dict of str to FileSources
        By file name, for the readable files that have the source (any
        source); empty if the run is not stored.
    """
    chosen: dict[str, Any] = {"path": os.path.normpath(os.fspath(key))}
    sql = _SOURCES_OF_ALL
    if source is not None:
        chosen["name"] = source
        sql = _SOURCES_OF_ONE
        if files:
            if not json_lists:
                raise ValueError("files= needs json_lists=True (an SQLite catalogue)")
            chosen["files"] = json.dumps(list(files))
            sql = _SOURCES_IN_FILES
    source_rows = execute(sql, chosen)
    if source is None:  # the whole run: select the rest through the run
        rest = [execute(_IN_WHOLE_RUN[table], chosen) for table in _TABLES]
    else:  # a few files: select the rest by id
        ids = {"keys": {r.keyset_id for r in source_rows},
               "values": {r.runvalue_set_id for r in source_rows} - {None},
               "groups": {r.id for r in source_rows}}
        rest = [_rows_by_ids(execute, table, ids[table], json_lists) for table in _TABLES]
    by_id = assemble_sources(source_rows, *rest, cache=cache)
    out: dict[str, FileSources] = {}
    for row in source_rows:
        if row.file_name not in out:
            out[row.file_name] = FileSources(
                (row.size, row.mtime, int(row.inode) + UINT64_OFFSET),
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
_SOURCES_OF_ALL = _FILE_SOURCES + " ORDER BY fs.file_id, fs.position"
# The unary + keeps SQLite from starting at the source's rows in every run of
# the catalogue (ix_file_sources_source_id): the run's own files are far fewer.
_SOURCES_OF_ONE = (
    _FILE_SOURCES + " AND +fs.source_id = (SELECT id FROM sources WHERE name = :name) "
    "ORDER BY fs.file_id, fs.position")



_SOURCES_IN_FILES = (
    _FILE_SOURCES + " AND f.name IN (SELECT value FROM json_each(:files)) "
    "AND +fs.source_id = (SELECT id FROM sources WHERE name = :name) "
    "ORDER BY fs.file_id, fs.position")

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
_IN_JSON = {table: _SELECT[table].format("SELECT value FROM json_each(:ids)")
            for table in _TABLES}
#: The columns of the rows the statements above give: the source rows, then
#: those of each of :data:`_TABLES` (a reader may prepare its row types).
RESULT_COLUMNS = (
    ("id", "file_id", "section", "keyset_id", "runvalue_set_id", "key_lengths", "name",
     "file_name", "size", "mtime", "inode"),
    ("keyset_id", "position", "name", "dtype", "entry_shape", "chunks", "compression",
     "compression_opts", "shuffle", "attrs"),
    ("set_id", "position", "key", "dtype", "shape", "kind", "value_int", "value_float",
     "value_str", "summary"),
    ("file_source_id", "position", "name", "first", "count"),
)
_RUN_FILE_SOURCES = ("SELECT fs.{} FROM runs r JOIN files f ON f.run_id = r.id "
                     "JOIN file_sources fs ON fs.file_id = f.id "
                     "WHERE r.path = :path AND f.state <> 'unreadable'")
_IN_WHOLE_RUN = {
    table: _SELECT[table].format(_RUN_FILE_SOURCES.format(column))
    for table, column in zip(_TABLES, ("keyset_id", "runvalue_set_id", "id"))}


def _rows_by_ids(execute: Execute, table: str, ids: set[int], json_lists: bool) -> Any:
    """The rows of *table* for some ids (none for no ids)."""
    if not ids:
        return []
    if json_lists:
        return execute(_IN_JSON[table], {"ids": json.dumps(sorted(ids))})
    return execute(_by_ids(table, ids), {})


def _keys_of(rows: list[Any], key_lengths: str, cache: RecordCache) -> tuple[KeyRecord, ...]:
    """The key records of a key set's rows with the lengths of one file (cached)."""
    content = (tuple(rows), key_lengths)
    found = cache.keys.get(content)
    if found is None:
        lengths = enc.decode_lengths(key_lengths)
        found = cache.keys[content] = tuple(
            enc.key_from_columns(k, n) for k, n in zip(rows, lengths))
    return found


def _by_ids(table: str, ids: set[int]) -> str:
    """The rows of *table* for some ids, written into the statement.

    The ids are the database's own integers (``int()`` makes sure): a
    literal list spares a bound parameter per id, whose handling on first
    use costs more than the query.
    """
    listed = ",".join(str(int(i)) for i in sorted(ids))
    return _SELECT[table].format(listed)


@dataclass
class RecordCache:
    """Records decoded for one run, shared by its successive fetches.

    Equal key lists (the modules of a detector, the sequence files of an
    aggregator) and equal INDEX blobs become one object however many
    fetches bring them. Keyed by content, not by database id.
    """

    keys: dict[tuple[Any, ...], tuple[KeyRecord, ...]] = field(default_factory=dict)
    blobs: dict[bytes, bytes] = field(default_factory=dict)


def assemble_sources(source_rows: Iterable[Any], keyset_rows: Iterable[Any],
                     value_rows: Iterable[Any], group_rows: Iterable[Any],
                     cache: RecordCache | None = None) -> dict[int, list[SourceRecord]]:
    """SourceRecords by file id from rows of the source, key, RUN value and INDEX tables.

    *source_rows* (``file_sources`` joined with the source ``name``) must be
    in file and position order, the others in their set/source and
    position order, as stored. *cache*: records to share with other fetches.
    """
    cache = RecordCache() if cache is None else cache
    keysets: dict[int, list[Any]] = defaultdict(list)
    for row in keyset_rows:
        keysets[row.keyset_id].append(row)
    value_lists: dict[int, list[RunValueRecord]] = defaultdict(list)
    for row in value_rows:
        value_lists[row.set_id].append(enc.run_value_from_columns(row))
    # One tuple per set, shared by the sequence files that use it.
    value_sets = {set_id: tuple(values) for set_id, values in value_lists.items()}
    groups: dict[int, list[IndexGroupRecord]] = defaultdict(list)
    shared = cache.blobs  # one object per distinct blob (most repeat)
    for row in group_rows:
        first, count = bytes(row.first), bytes(row.count)
        # (the constructor: a record made so keeps its fields compactly, and a
        # run has a few of these per file and source)
        groups[row.file_source_id].append(IndexGroupRecord(
            row.name, shared.setdefault(first, first), shared.setdefault(count, count)))

    by_file: dict[int, list[SourceRecord]] = defaultdict(list)
    # The sequence files of one aggregator repeat a source's key set and, but
    # for the last file, its lengths: decode each combination once and share
    # the (frozen) records, instead of decoding ~40,000 keys for a 500-file run.
    decoded: dict[tuple[int, str], tuple[KeyRecord, ...]] = {}
    for row in source_rows:
        keys = decoded.get((row.keyset_id, row.key_lengths))
        if keys is None:
            keys = decoded[(row.keyset_id, row.key_lengths)] = _keys_of(
                keysets[row.keyset_id], row.key_lengths, cache)
        values = value_sets.get(row.runvalue_set_id, ()) if row.runvalue_set_id else ()
        by_file[row.file_id].append(SourceRecord(
            name=row.name, section=row.section, index_groups=tuple(groups.get(row.id, ())),
            keys=keys, run_values=values))
    return by_file
