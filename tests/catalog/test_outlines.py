"""Run outlines: one row per run, always equal to what the tables say."""

from __future__ import annotations

import os
import pickle
from dataclasses import replace

import numpy as np
import pytest
from _catalog_factory import RUN_PATH, file_record, run_info, small_run
from sqlalchemy import delete, select, update

from extra_catalog.catalog import (
    RunProblem,
    UnreadableFile,
    record_problem,
    remove_files,
    remove_run,
    replace_run,
    replace_run_problems,
    update_files,
)
from extra_catalog.catalog._read import load_run_record
from extra_catalog.catalog.models import Run, RunOutline
from extra_catalog.catalog.outline import OUTLINE_FORMAT, OutlineError, encode_outline
from extra_catalog.catalog.outlineview import decode_outline, read_outline
from extra_catalog.catalog.outlines import build_missing_outlines
from extra_catalog.catalog.partial import load_run_outline
from extra_catalog.catalog.store import _require_run
from extra_catalog.fileaccess.codec import encode_array
from extra_catalog.records import FileRecord, ProblemRecord


def _from_tables(catalog, path=RUN_PATH):
    with catalog.session_scope() as session:
        run, proposal = _require_run(session, path)
        return load_run_record(session, run, proposal, details=False)


def _stored(catalog, path=RUN_PATH):
    with catalog.session_scope() as session:
        run, _ = _require_run(session, path)
        row = session.execute(select(RunOutline).where(RunOutline.run_id == run.id)).scalar()
        return None if row is None else (row.format, decode_outline(row.blob))


def _assert_in_step(catalog, path=RUN_PATH):
    fmt, outline = _stored(catalog, path)
    assert fmt == OUTLINE_FORMAT
    assert outline == _from_tables(catalog, path)


def test_an_outline_round_trips_everything_opening_needs(catalog):
    unreadable = UnreadableFile(f"{RUN_PATH}/RAW-R0001-DA09-S00000.h5", 10, 1.5, 7,
                                ProblemRecord("unreadable", "truncated", details=(("e", 1),)))
    replace_run(catalog, run_info(), [*small_run(), unreadable],
                changed=["RAW-R0001-DA01-S00001.h5"])
    record_problem(catalog, RUN_PATH, ProblemRecord("overlap", "trains overlap", train_id=5),
                   path="RAW-R0001-DA01-S00000.h5")
    tables = _from_tables(catalog)
    assert tables.unreadable and tables.changed and tables.problems  # all kinds present
    assert any(f.legacy_sources for f in tables.files) and any(f.problems for f in tables.files)
    decoded = decode_outline(encode_outline(tables))
    assert decoded == tables
    assert decoded.indexed_at == tables.indexed_at
    # Sequence files of one aggregator share one tuple of source records.
    da = [f for f in decoded.files if "-DA01-" in f.path]
    assert da[0].sources is da[1].sources


def test_outline_file_records_decode_their_details_on_first_use(catalog):
    replace_run(catalog, run_info(), small_run())
    tables = _from_tables(catalog)
    decoded = decode_outline(encode_outline(tables))
    with_problems = next(i for i, f in enumerate(tables.files) if f.problems)
    lazy, plain = decoded.files[with_problems], tables.files[with_problems]
    assert "train_ids" not in vars(lazy) and "problems" not in vars(lazy)  # not decoded yet
    assert lazy.problems == plain.problems and lazy.train_ids == plain.train_ids
    assert lazy.metadata == plain.metadata and lazy.timestamps == plain.timestamps
    # Equal and hashed as the plain record, whichever side compares.
    assert plain == lazy and lazy == plain and hash(lazy) == hash(plain)
    assert lazy != replace(plain, size=plain.size + 1)
    # Pickled (e.g. to a dask worker) as a plain, complete FileRecord.
    restored = pickle.loads(pickle.dumps(decoded.files[0]))
    assert type(restored) is FileRecord and restored == tables.files[0]
    assert replace(decoded.files[0], size=1) == replace(tables.files[0], size=1)
    with pytest.raises(AttributeError):
        lazy.no_such_field


def test_an_outline_gives_each_sources_files_and_makes_records_on_demand(catalog):
    replace_run(catalog, run_info(), small_run())
    tables = _from_tables(catalog)
    outline = read_outline(encode_outline(tables))
    assert outline.names == [os.path.basename(f.path) for f in tables.files]
    assert outline.stats() == {os.path.basename(f.path): (f.size, f.mtime, f.inode)
                               for f in tables.files}
    expected: dict = {}
    for i, f in enumerate(tables.files):
        for s in f.sources:
            expected.setdefault((s.name, s.section), []).append(i)
    assert {(name, section): outline.positions_of(name)
            for name, section in outline.source_sections().items()} == expected
    assert outline.files_holding(tables.files[0].sources[0].name)[0] == outline.names[0]
    assert outline.positions_of("NO/SUCH/SOURCE") == []
    assert outline.has_legacy == any(f.legacy_sources for f in tables.files)
    assert outline._records == [None] * len(tables.files)  # nothing made yet
    (second,) = outline.records([1])
    assert second == tables.files[1] and outline.records([1])[0] is second  # made once
    assert sum(r is not None for r in outline._records) == 1
    assert outline.to_run_record() == tables


def test_every_write_keeps_the_outline_in_step(catalog):
    files = small_run()
    replace_run(catalog, run_info(), files)
    _assert_in_step(catalog)
    update_files(catalog, run_info(), [replace(files[0], size=5)])
    _assert_in_step(catalog)
    remove_files(catalog, run_info(), [files[1].path])
    _assert_in_step(catalog)
    record_problem(catalog, RUN_PATH, ProblemRecord("x", "run-level"))
    _assert_in_step(catalog)
    replace_run_problems(catalog, RUN_PATH, [RunProblem(ProblemRecord("y", "again"), None)])
    _assert_in_step(catalog)
    assert [p.problem.check for p in _stored(catalog)[1].problems] == ["y"]


def test_a_failed_write_leaves_the_old_outline(catalog):
    files = small_run()
    replace_run(catalog, run_info(), files)
    before = _stored(catalog)
    with pytest.raises(Exception):
        # Not a file of this run: refused, rolled back.
        record_problem(catalog, RUN_PATH, ProblemRecord("x", "y"), path="NOT-THERE.h5")
    assert _stored(catalog) == before


def test_removing_a_run_removes_its_outline(catalog):
    replace_run(catalog, run_info(), small_run())
    remove_run(catalog, RUN_PATH)
    with catalog.session_scope() as session:
        assert session.execute(select(RunOutline)).first() is None


def test_missing_or_old_outlines_are_built_and_the_tables_answer_meanwhile(catalog):
    replace_run(catalog, run_info(), small_run())
    with catalog.session_scope(write=True) as session:
        session.execute(delete(RunOutline))
    assert load_run_outline(catalog, RUN_PATH) == _from_tables(catalog)
    assert build_missing_outlines(catalog) == 1
    assert build_missing_outlines(catalog) == 0  # nothing left: only read
    with catalog.session_scope(write=True) as session:
        session.execute(update(RunOutline).values(format=OUTLINE_FORMAT + 1))
    assert build_missing_outlines(catalog) == 1
    _assert_in_step(catalog)


def test_a_damaged_outline_is_not_used(catalog):
    replace_run(catalog, run_info(), small_run())
    with catalog.session_scope(write=True) as session:
        session.execute(update(RunOutline).values(blob=b"\x93garbage"))
    with pytest.raises(OutlineError):
        decode_outline(b"\x93garbage")
    assert load_run_outline(catalog, RUN_PATH) == _from_tables(catalog)


def _codec_file(name, train_ids, *, path=RUN_PATH, sources=None):
    rec = file_record(name, path=path, sources=sources)
    return replace(rec, train_ids=encode_array(train_ids),
                   validity=encode_array([1] * (len(train_ids) - 1) + [0]))


def test_train_facts_unions_and_disjointness(catalog):
    a = _codec_file("RAW-R0001-DA01-S00000.h5", [10, 11, 12])
    b = _codec_file("RAW-R0001-DA01-S00001.h5", [13, 14])
    replace_run(catalog, run_info(), [a, b])
    facts = _stored(catalog)[1].trains
    from extra_catalog.fileaccess.codec import decode_array

    assert decode_array(facts.train_ids).tolist() == [10, 11, 12, 13, 14]
    assert decode_array(facts.valid_train_ids).tolist() == [10, 11, 13]
    assert facts.disjoint
    # Each file's train ranges, all and good ones (1, 0: none).
    empty = replace(file_record("RAW-R0001-DA02-S00000.h5"),
                    train_ids=encode_array(np.zeros(0, np.uint64)),
                    validity=encode_array(np.zeros(0, np.uint8)))
    update_files(catalog, run_info(), [empty])
    assert [f.train_range for f in _stored(catalog)[1].files] == [
        [10, 12, 10, 11], [13, 14, 13, 13], [1, 0, 1, 0]]
    remove_files(catalog, run_info(), [empty.path])
    # The same source holding train 12 in two files: not disjoint.
    c = _codec_file("RAW-R0001-DA01-S00002.h5", [12, 20])
    update_files(catalog, run_info(), [c])
    assert not _stored(catalog)[1].trains.disjoint


def test_train_facts_are_absent_when_train_ids_are_not_codec_blobs(catalog):
    replace_run(catalog, run_info(), small_run())  # raw struct blobs, not codec output
    assert _stored(catalog)[1].trains is None
    assert all(f.train_range is None for f in _stored(catalog)[1].files)


def test_outlines_are_small(catalog):
    replace_run(catalog, run_info(), small_run(n_modules=4, n_seqs=8))
    with catalog.session_scope() as session:
        (blob,) = session.execute(select(RunOutline.blob)).one()
        n_files = session.execute(select(Run.n_files)).scalar()
    assert len(blob) < 600 * n_files
