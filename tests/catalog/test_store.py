"""Writing and reading runs: round trips, replacement, incremental updates."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime, timezone

import pytest
from _catalog_factory import RUN_PATH, detector_file, file_record, run_info, small_run
from sqlalchemy import func, select

from extra_catalog.catalog import (
    UnreadableFile,
    file_stats,
    last_crawled,
    list_runs,
    load_run,
    mark_crawled,
    record_problem,
    remove_files,
    remove_run,
    replace_run,
    update_files,
)
from extra_catalog.catalog.models import Keyset, RunValueSet
from extra_catalog.exceptions import CatalogError
from extra_catalog.records import ProblemRecord


def _by_path(files):
    return tuple(sorted(files, key=lambda f: f.path))


def test_round_trip_gives_equal_records(catalog):
    files = small_run()
    info = run_info()
    replace_run(catalog, info, files)
    loaded = load_run(catalog, RUN_PATH)
    assert loaded.info == info
    assert loaded.files == _by_path(files)
    assert loaded.indexed_at is not None and loaded.indexed_at.tzinfo is not None


def test_scalar_types_survive_exactly(catalog):
    replace_run(catalog, run_info(), small_run())
    record = load_run(catalog, RUN_PATH).file("RAW-R0001-DA01-S00000.h5")
    meta = dict(record.metadata)
    assert type(meta["weird"]) is float and type(meta["flag"]) is bool
    assert type(meta["runNumber"]) is int and meta["none"] is None
    values = {v.key: v.value for v in record.sources[0].run_values}
    assert values["actualPosition.timestamp"] == 2**64 - 1
    assert type(values["enabled.value"]) is bool and type(values["count.value"]) is int
    assert str(values["negzero.value"]) == "-0.0"
    assert values["inf.value"] == float("-inf")
    assert values["table.value"] is None


def test_nan_run_value_survives(catalog):
    from extra_catalog.records import RunValueRecord

    source = file_record("a.h5").sources[0]
    nan = replace(source, run_values=(RunValueRecord("x.value", "<f8", (), float("nan")),))
    replace_run(catalog, run_info(), [file_record("a.h5", sources=(nan,))])
    value = load_run(catalog, RUN_PATH).files[0].sources[0].run_values[0].value
    assert isinstance(value, float) and value != value


def test_load_by_proposal_run_and_category(catalog):
    replace_run(catalog, run_info(), small_run())
    assert load_run(catalog, (900001, 1, "raw")).info.path == RUN_PATH
    with pytest.raises(CatalogError, match="proposal 900001 run 1 \\(proc\\).*not in the catalogue"):
        load_run(catalog, (900001, 1, "proc"))


def test_replace_run_replaces_all_files(catalog):
    replace_run(catalog, run_info(), small_run())
    newer = [detector_file(7, 0)]
    replace_run(catalog, replace(run_info(), sample="new"), newer)
    loaded = load_run(catalog, RUN_PATH)
    assert loaded.files == tuple(newer) and loaded.info.sample == "new"
    assert [s.info.path for s in list_runs(catalog)] == [RUN_PATH]


def test_replace_run_is_atomic(catalog, monkeypatch):
    from extra_catalog.catalog import _write

    files = small_run()
    replace_run(catalog, run_info(), files)

    def broken(*args, **kwargs):
        raise RuntimeError("crash in the middle of writing")

    monkeypatch.setattr(_write, "_insert_contents", broken)
    with pytest.raises(RuntimeError, match="crash"):
        replace_run(catalog, run_info(), [detector_file(9, 0)])
    assert load_run(catalog, RUN_PATH).files == _by_path(files)


def test_unit_of_work_inside_a_callers_session_rolls_back_alone(catalog):
    with catalog.session_scope(write=True) as session:
        replace_run(session, run_info(), small_run())
        with pytest.raises(CatalogError, match="not directly in the run directory"):
            replace_run(session, run_info(), [file_record("x.h5", path="/elsewhere")])
    assert len(load_run(catalog, RUN_PATH).files) == 6


def test_keysets_are_shared_and_pruned(catalog):
    replace_run(catalog, run_info(), small_run(n_modules=3, n_seqs=4))
    with catalog.session_scope() as session:
        # 1 control keyset + 1 detector keyset (keys identical across modules)
        assert session.execute(select(func.count()).select_from(Keyset)).scalar() == 2
        assert session.execute(select(func.count()).select_from(RunValueSet)).scalar() == 1
    assert remove_run(catalog, RUN_PATH) is True
    with catalog.session_scope() as session:
        assert session.execute(select(func.count()).select_from(Keyset)).scalar() == 0
        assert session.execute(select(func.count()).select_from(RunValueSet)).scalar() == 0
    assert remove_run(catalog, RUN_PATH) is False
    assert list_runs(catalog) == []


def test_update_and_remove_files(catalog):
    files = small_run()
    replace_run(catalog, run_info(), files)
    regrown = file_record(os.path.basename(files[0].path), n_trains=20, inode=999)
    added = detector_file(5, 3)
    update_files(catalog, replace(run_info(), n_trains=200), [regrown, added])
    loaded = load_run(catalog, RUN_PATH)
    expected = _by_path([regrown, added] + files[1:])
    assert loaded.files == expected and loaded.info.n_trains == 200
    assert remove_files(catalog, run_info(), [added.path, "RAW-R0001-NOPE-S00000.h5"]) == 1
    assert load_run(catalog, RUN_PATH).files == _by_path([regrown] + files[1:])
    assert list_runs(catalog)[0].n_files == len(files)


def test_update_files_creates_a_missing_run(catalog):
    update_files(catalog, run_info(), [detector_file(0, 0)])
    assert load_run(catalog, RUN_PATH).files == (detector_file(0, 0),)


def test_unreadable_and_changed_files(catalog):
    bad = UnreadableFile(os.path.join(RUN_PATH, "RAW-R0001-DA02-S00000.h5"), 10, 5.5, 77,
                         ProblemRecord("unreadable", "truncated HDF5 file"))
    good = file_record("RAW-R0001-DA01-S00000.h5")
    growing = file_record("RAW-R0001-DA01-S00001.h5")
    replace_run(catalog, run_info(), [good, growing, bad], changed=[growing.path])
    loaded = load_run(catalog, RUN_PATH)
    assert loaded.files == (good, growing)
    assert loaded.unreadable == (bad,)
    assert loaded.changed == (growing.path,)
    assert file_stats(catalog, RUN_PATH) == {
        "RAW-R0001-DA01-S00000.h5": (good.size, good.mtime, good.inode),
        "RAW-R0001-DA01-S00001.h5": (growing.size, growing.mtime, growing.inode),
        "RAW-R0001-DA02-S00000.h5": (10, 5.5, 77),
    }


def test_file_stats_of_unknown_run_is_empty(catalog):
    assert file_stats(catalog, "/no/such/run") == {}


def test_record_problem(catalog):
    replace_run(catalog, run_info(), small_run())
    name = "RAW-R0001-DA01-S00000.h5"
    whole = ProblemRecord("run_files", "sequence S00002 missing")
    one = ProblemRecord("hang", "reading timed out", train_id=2**64 - 1)
    record_problem(catalog, RUN_PATH, whole)
    record_problem(catalog, (900001, 1, "raw"), one, path=name)
    loaded = load_run(catalog, RUN_PATH)
    assert [(p.problem, p.path) for p in loaded.problems] == [
        (whole, None), (one, os.path.join(RUN_PATH, name))]
    # File-level problems of the records are not mixed in.
    assert loaded.file(name).problems == small_run()[0].problems
    with pytest.raises(CatalogError, match="no such file"):
        record_problem(catalog, RUN_PATH, whole, path="RAW-R0001-XX-S00000.h5")


def test_list_runs_by_proposal(catalog):
    replace_run(catalog, run_info(), [detector_file(0, 0)])
    other = "/exp/SPB/202601/p900002/proc/r0003"
    replace_run(catalog, run_info(other, proposal=900002, run=3, category="proc"),
                [detector_file(0, 0, path=other)])
    assert [(s.info.proposal, s.info.run, s.n_files) for s in list_runs(catalog)] == [
        (900001, 1, 1), (900002, 3, 1)]
    assert [s.info.path for s in list_runs(catalog, proposal=900002)] == [other]


def test_last_crawled_per_proposal(catalog):
    assert last_crawled(catalog, 900001) is None
    when = datetime(2026, 5, 1, 12, 30, tzinfo=timezone.utc)
    mark_crawled(catalog, 900001, instrument="SPB", cycle="202601", when=when)
    assert last_crawled(catalog, 900001) == when
    replace_run(catalog, run_info(), [detector_file(0, 0)])  # keeps the proposal's crawl time
    assert last_crawled(catalog, 900001) == when


@pytest.mark.parametrize("bad, match", [
    (lambda: replace(run_info(), path="relative/r0001"), "must be absolute"),
    (lambda: replace(run_info(), first_train=-1), "first train ID -1 is not an unsigned"),
])
def test_bad_run_info_names_the_problem(catalog, bad, match):
    with pytest.raises(CatalogError, match=match):
        replace_run(catalog, bad(), [])


def test_bad_file_records_name_the_file(catalog):
    record = file_record("RAW-R0001-DA01-S00000.h5", inode=2**64)
    with pytest.raises(CatalogError, match="RAW-R0001-DA01-S00000.h5: inode"):
        replace_run(catalog, run_info(), [record])
    with pytest.raises(CatalogError, match="given twice"):
        replace_run(catalog, run_info(), [file_record("a.h5"), file_record("a.h5")])
