"""SQLAlchemy models of the catalogue.

The schema, top down::

    proposals 1-n runs 1-n files 1-n file_sources n-1 sources
                            |            |   \\-> keysets 1-n keyset_keys
                            |            |   \\-> runvalue_sets 1-n run_values
                            |            \\-1-n index_groups
                            \\-1-n legacy_names, problems (also per run)

Bulky per-train arrays (train IDs, flags, timestamps, INDEX first/count) are
opaque blobs from :mod:`extra_catalog.fileaccess.codec`. What repeats across
files is stored once and referenced: source names (``sources``), the key
descriptions of a source (``keysets``, found by a digest of their content)
and the RUN values of a source (``runvalue_sets``). What differs per file —
the number of entries of each key — is kept per file source as a short
run-length string (``key_lengths``).

Columns typed :class:`~.types.UInt64` hold ``value - 2**63``; see
:mod:`extra_catalog.catalog.types`. Nothing outside :mod:`extra_catalog.catalog`
should import these classes: the store returns plain records.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .types import UInt64, UTCDateTime

__all__ = [
    "Proposal",
    "Run",
    "File",
    "Source",
    "Keyset",
    "KeysetKey",
    "RunValueSet",
    "RunValue",
    "FileSource",
    "IndexGroup",
    "LegacyName",
    "Problem",
    "FILE_STATES",
    "ProposalAlias",
    "UNREADABLE_POSITION",
]

#: ``problems.position`` of the reason an unreadable file could not be read.
UNREADABLE_POSITION = -1

#: States of a catalogued file: read fine, could not be read, or changed
#: while it was being read (the record is kept but must be read again).
FILE_STATES = ("ok", "unreadable", "changed")


class Proposal(Base):
    """A proposal (experiment) and when its directory was last crawled."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Unique: looked up by number when a run is written or listed.
    number: Mapped[int] = mapped_column(Integer, unique=True)
    instrument: Mapped[str] = mapped_column(String(16))
    cycle: Mapped[str] = mapped_column(String(16))
    last_crawled: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProposalAlias(Base):
    """An alias of a proposal's alias file (``usr/extra-data-aliases.yml``).

    Recorded by the crawler so that queries accept alias names in place of
    source names (``Catalog.runs(source='xgm')``).
    """

    __tablename__ = "proposal_aliases"
    __table_args__ = (
        # Queries resolve an alias name per proposal; the crawler replaces a
        # proposal's aliases when its file changes.
        UniqueConstraint("proposal_id", "alias"),
        # Queries look an alias name up across proposals.
        Index("ix_proposal_aliases_alias", "alias"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(200))  # normalised: lower-case, '-' for '_'
    source: Mapped[str] = mapped_column(Text)
    key: Mapped[str | None] = mapped_column(Text)  # None: the alias names a whole source


class Run(Base):
    """One run directory of one data category (raw, proc...)."""

    __tablename__ = "runs"
    __table_args__ = (
        # load_run((proposal, run, category)) and list_runs(proposal).
        UniqueConstraint("proposal_id", "number", "data_category"),
        # Cross-run queries: which runs contain train X (range comparisons
        # stay correct thanks to UInt64's order-preserving offset).
        Index("ix_runs_first_train_last_train", "first_train", "last_train"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    data_category: Mapped[str] = mapped_column(String(16))
    # Unique: load_run(path), file_stats(path) and replace_run find runs by path.
    path: Mapped[str] = mapped_column(Text, unique=True)
    first_train: Mapped[int | None] = mapped_column(UInt64)
    last_train: Mapped[int | None] = mapped_column(UInt64)
    n_trains: Mapped[int] = mapped_column(Integer)
    # Trains flagged suspect in some file and good in none (migration 0004).
    n_suspect_trains: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    n_files: Mapped[int] = mapped_column(Integer)
    format_version: Mapped[str | None] = mapped_column(String(8))
    creation_date: Mapped[str | None] = mapped_column(String(32))
    update_date: Mapped[str | None] = mapped_column(String(32))
    sample: Mapped[str | None] = mapped_column(Text)
    run_type: Mapped[str | None] = mapped_column(Text)
    indexed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class File(Base):
    """One HDF5 file of a run, named relative to the run directory."""

    __tablename__ = "files"
    __table_args__ = (
        # file_stats(run), load_run and update_files: the files of a run, by name.
        UniqueConstraint("run_id", "name"),
        CheckConstraint("state IN ('ok', 'unreadable', 'changed')", name="state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    aggregator: Mapped[str | None] = mapped_column(String(32))
    sequence: Mapped[int | None] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime: Mapped[float] = mapped_column(Double)
    inode: Mapped[int] = mapped_column(UInt64)
    state: Mapped[str] = mapped_column(String(16))
    format_version: Mapped[str | None] = mapped_column(String(8))
    train_ids: Mapped[bytes | None] = mapped_column(LargeBinary)
    validity: Mapped[bytes | None] = mapped_column(LargeBinary)
    timestamps: Mapped[bytes | None] = mapped_column(LargeBinary)
    # METADATA scalars as a JSON list of [name, value] pairs (order kept).
    metadata_json: Mapped[str | None] = mapped_column("metadata", Text)
    # dCache's answer about the file when the crawler last checked it, and when
    # (migration 0005); NULL when no crawl has checked it (see
    # extra_catalog.fileaccess.locality). Whether it was readable is ``state``.
    locality: Mapped[str | None] = mapped_column(String(32))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Source(Base):
    """A source name, stored once for the whole catalogue."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Unique: names are resolved to ids when writing and when querying by source.
    name: Mapped[str] = mapped_column(Text, unique=True)


class Keyset(Base):
    """The key descriptions of a source, shared by every file that has them."""

    __tablename__ = "keysets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Unique: writers look up an existing keyset by the digest of its content.
    digest: Mapped[str] = mapped_column(String(32), unique=True)
    n_keys: Mapped[int] = mapped_column(Integer)


class KeysetKey(Base):
    """One key of a keyset: dtype, entry shape, storage layout and units."""

    __tablename__ = "keyset_keys"
    __table_args__ = (
        # Cross-run queries: which sources (and so runs) have key X.
        Index("ix_keyset_keys_name", "name"),
    )

    keyset_id: Mapped[int] = mapped_column(
        ForeignKey("keysets.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    dtype: Mapped[str] = mapped_column(Text)
    entry_shape: Mapped[str] = mapped_column(Text)
    chunks: Mapped[str | None] = mapped_column(Text)
    compression: Mapped[str | None] = mapped_column(String(32))
    compression_opts: Mapped[int | None] = mapped_column(Integer)
    shuffle: Mapped[bool] = mapped_column(Boolean)
    # metricPrefixSymbol + unitSymbol, for queries; the attributes hold the rest.
    unit: Mapped[str | None] = mapped_column(String(32))
    attrs: Mapped[str] = mapped_column(Text)


class RunValueSet(Base):
    """The RUN values of a source, shared by the files that repeat them."""

    __tablename__ = "runvalue_sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Unique: writers look up an existing set by the digest of its content.
    digest: Mapped[str] = mapped_column(String(32), unique=True)


class RunValue(Base):
    """One RUN value; scalars are kept in typed columns so SQL can compare them.

    ``kind`` says how to rebuild the Python value: ``int`` (``value_int``),
    ``bigint`` (an int outside int64, decimal in ``value_str``), ``float``
    (``repr`` in ``value_str`` for an exact round trip, ``value_float`` for
    queries, NULL when not finite), ``bool``, ``str`` or ``none``.
    """

    __tablename__ = "run_values"
    __table_args__ = (
        # Cross-run queries: runs where run value KEY compares with a number.
        Index("ix_run_values_key_value_float", "key", "value_float"),
    )

    set_id: Mapped[int] = mapped_column(
        ForeignKey("runvalue_sets.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(Text)
    dtype: Mapped[str] = mapped_column(Text)
    shape: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(8))
    value_int: Mapped[int | None] = mapped_column(BigInteger)
    value_float: Mapped[float | None] = mapped_column(Double)
    value_str: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)


class FileSource(Base):
    """A source in one file: its section, keys, RUN values and key lengths."""

    __tablename__ = "file_sources"
    __table_args__ = (
        # load_run: the sources of a run's files, in file order.
        UniqueConstraint("file_id", "position"),
        # Cross-run queries starting from source names (migration 0008): runs
        # with source X, run-value conditions (runvalue_set_id) and the keys
        # of source X (keyset_id), answered from the index alone.
        Index("ix_file_sources_source_id_file_id", "source_id", "file_id", "keyset_id",
              "runvalue_set_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    # Indexed first in ix_file_sources_source_id_file_id (cross-run queries).
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    section: Mapped[str] = mapped_column(String(16))
    # Indexed: pruning keysets no file refers to any more.
    keyset_id: Mapped[int] = mapped_column(ForeignKey("keysets.id"), index=True)
    # Indexed: pruning RUN value sets no file refers to any more.
    runvalue_set_id: Mapped[int | None] = mapped_column(
        ForeignKey("runvalue_sets.id"), index=True)
    # Entries per key, run-length encoded: "6400*12,50*8".
    key_lengths: Mapped[str] = mapped_column(Text)


class IndexGroup(Base):
    """INDEX first/count arrays of one index group of a source in one file."""

    __tablename__ = "index_groups"

    file_source_id: Mapped[int] = mapped_column(
        ForeignKey("file_sources.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    first: Mapped[bytes] = mapped_column(LargeBinary)
    count: Mapped[bytes] = mapped_column(LargeBinary)


class LegacyName(Base):
    """A legacy source name in a file and the canonical source it stands for."""

    __tablename__ = "legacy_names"

    file_id: Mapped[int] = mapped_column(
        ForeignKey("files.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    legacy_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    target_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))


class Problem(Base):
    """A problem found in a run or file.

    ``position`` is the place in ``FileRecord.problems`` for problems that
    came with a file record, :data:`UNREADABLE_POSITION` for the reason a
    file could not be read, and NULL for problems the crawler recorded on its
    own (:func:`~extra_catalog.catalog.store.record_problem`).
    """

    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Indexed: load_run and run reports fetch the problems of one run.
    run_id: Mapped[int] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    # Indexed: deleting a file's rows (update_files) finds its problems.
    file_id: Mapped[int | None] = mapped_column(
        ForeignKey("files.id", ondelete="CASCADE"), index=True)
    position: Mapped[int | None] = mapped_column(Integer)
    # "check" is an SQL keyword: the column is named check_name.
    check: Mapped[str] = mapped_column("check_name", String(64))
    message: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    dataset: Mapped[str | None] = mapped_column(Text)
    train_id: Mapped[int | None] = mapped_column(UInt64)
    # ProblemRecord.details as a JSON list of [name, value] pairs, NULL if none.
    details: Mapped[str | None] = mapped_column(Text)


class RunOutline(Base):
    """What opening a run needs, in one row: a derived copy of its tables.

    ``blob`` is :func:`extra_catalog.catalog.outline.encode_outline` of the
    run's files, train IDs, source names and problems, in the encoding
    ``format``. Every write of a run replaces it in the same transaction
    (:mod:`extra_catalog.catalog.outlines`); a missing row or another format
    only means opening reads the tables instead.
    """

    __tablename__ = "run_outlines"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    format: Mapped[int] = mapped_column(Integer)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
