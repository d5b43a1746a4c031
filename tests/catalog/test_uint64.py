"""Train IDs are uint64: every value survives, and SQL compares them correctly."""

from __future__ import annotations

import os

import pytest
from _catalog_factory import RUN_PATH, detector_file, file_record, run_info
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from extra_catalog.catalog import load_run, record_problem, replace_run
from extra_catalog.catalog.models import Run
from extra_catalog.catalog.types import UINT64_MAX, UInt64
from extra_catalog.records import ProblemRecord

EXTREMES = [0, 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**63 + 1, 2**64 - 2, UINT64_MAX]


def test_extremes_round_trip(catalog):
    for i, value in enumerate(EXTREMES):
        path = f"/exp/SPB/202601/p900001/raw/r{i:04d}"
        info = run_info(path, run=i, first=value, last=value)
        record = file_record("RAW-R0001-DA01-S00000.h5", path=path, inode=value,
                             problems=(ProblemRecord("bogus_train", "bad", train_id=value),))
        replace_run(catalog, info, [record])
        record_problem(catalog, path, ProblemRecord("x", "y", train_id=value))
        loaded = load_run(catalog, path)
        assert loaded.info.first_train == loaded.info.last_train == value
        assert loaded.files[0].inode == value
        assert loaded.files[0].problems[0].train_id == value
        assert loaded.problems[0].problem.train_id == value


def test_sql_range_comparisons_follow_unsigned_order(catalog):
    for i, value in enumerate(EXTREMES):
        path = f"/exp/SPB/202601/p900001/raw/r{i:04d}"
        replace_run(catalog, run_info(path, run=i, first=value, last=value),
                    [detector_file(0, 0, path=path)])
    with catalog.session_scope() as session:
        above = session.execute(select(Run.first_train).where(Run.first_train > 2**63)
                                .order_by(Run.first_train)).scalars().all()
        ordered = session.execute(select(Run.first_train).order_by(Run.first_train)).scalars().all()
        between = session.execute(select(Run.first_train).where(
            Run.first_train.between(2**32, 2**63))).scalars().all()
    assert above == [v for v in EXTREMES if v > 2**63]
    assert ordered == sorted(EXTREMES)
    assert sorted(between) == [2**32, 2**63 - 1, 2**63]


@pytest.mark.parametrize("value", [-1, 2**64, 1.5])
def test_out_of_range_is_refused_not_wrapped(value):
    with pytest.raises(ValueError, match="not an unsigned 64-bit integer"):
        UInt64().process_bind_param(value, None)


@given(st.integers(0, UINT64_MAX), st.integers(0, UINT64_MAX))
def test_mapping_is_order_preserving_bijection(a, b):
    t = UInt64()
    sa, sb = t.process_bind_param(a, None), t.process_bind_param(b, None)
    assert -(2**63) <= sa < 2**63
    assert (sa < sb) == (a < b)
    assert t.process_result_value(sa, None) == a


def test_none_stays_none(catalog):
    replace_run(catalog, run_info(first=None, last=None), [])
    info = load_run(catalog, RUN_PATH).info
    assert info.first_train is None and info.last_train is None
    assert os.path.basename(info.path) == "r0001"
