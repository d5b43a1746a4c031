"""Catalog.runs filters, checked against the generated tree and a brute-force scan."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

import pytest

from extra_catalog.fileaccess import FileAccess
from extra_catalog.query import QueryError, RunValueCondition, parse_run_value
from extra_catalog.query.terms import control_key_pattern, match_names

from .conftest import HIGH_TRAIN


def _ids(frame: Any) -> set[tuple[int, int, str]]:
    return set(zip(frame["proposal"], frame["run"], frame["data_category"]))


def test_every_run_is_listed_with_its_facts(cat) -> None:
    runs = cat.runs()
    assert _ids(runs) == {(900001, 1, "raw"), (900001, 2, "raw"), (900001, 2, "proc"),
                          (900001, 3, "raw"), (900002, 1, "raw"), (900002, 2, "raw")}
    first = runs[(runs.proposal == 900001) & (runs.run == 1)].iloc[0]
    assert (first.instrument, first.cycle, first["sample"], first.run_type) == (
        "SPB", "202601", "Lysozyme", "SFX")
    assert (first.n_trains, first.first_train, first.last_train) == (12, 10000, 10011)


def test_train_ids_near_2_64_are_exact(cat) -> None:
    high = cat.runs(proposal=900002, run=2).iloc[0]
    assert int(high.first_train) == HIGH_TRAIN
    assert int(high.last_train) == HIGH_TRAIN + 14
    assert str(cat.runs().first_train.dtype) == "UInt64"
    assert _ids(cat.runs(train=HIGH_TRAIN + 14)) == {(900002, 2, "raw")}
    assert _ids(cat.runs(train=HIGH_TRAIN + 15)) == set()
    assert _ids(cat.runs(train=10011)) == {(900001, 1, "raw")}


def test_identity_filters_combine_with_and(cat) -> None:
    assert _ids(cat.runs(proposal=900001, data_category="proc")) == {(900001, 2, "proc")}
    assert _ids(cat.runs(instrument="FXE", cycle="202602")) == {
        (900002, 1, "raw"), (900002, 2, "raw")}
    assert {r for _, r, _ in _ids(cat.runs(proposal=[900001], run=range(2, 4)))} == {2, 3}
    assert _ids(cat.runs(run_range=(None, 1))) == {(900001, 1, "raw"), (900002, 1, "raw")}
    assert _ids(cat.runs(proposal=900001, instrument="FXE")) == set()


def test_sample_run_type_dates_trains_and_problems(cat) -> None:
    assert _ids(cat.runs(sample="Lyso*")) == {(900001, 1, "raw")}
    assert _ids(cat.runs(run_type="Dark")) == {(900002, 2, "raw")}
    assert _ids(cat.runs(min_trains=12, max_trains=15)) == {
        (900001, 1, "raw"), (900002, 2, "raw")}
    # The 6-train run has one suspect train: 5 good trains.
    assert _ids(cat.runs(max_trains=5)) == {(900001, 2, "raw"), (900001, 2, "proc")}
    assert _ids(cat.runs(has_problems=True)) == {(900001, 3, "raw")}
    assert (900001, 3, "raw") not in _ids(cat.runs(has_problems=False))
    # Format 0.5 has no creation date; the high-train run was made on 2025-12-31.
    assert _ids(cat.runs(date_to="2025-12-31T23:59:59")) == {(900002, 2, "raw")}
    assert (900002, 2, "raw") not in _ids(cat.runs(date_from="2026-01-01"))


def test_source_and_key_globs(cat) -> None:
    assert _ids(cat.runs(source="*AGIPD*")) == {(900001, 2, "raw"), (900001, 2, "proc")}
    assert _ids(cat.runs(source="*JNGFR*:daqOutput")) == {(900002, 2, "raw")}
    # A CONTROL key without .value matches like DataCollection.select.
    motors = cat.runs(source="SPB_IRU_MOTORS/MOTOR/X", key="actualPosition")
    assert motors.equals(cat.runs(source="SPB_IRU_MOTORS/MOTOR/X",
                                  key="actualPosition.value"))
    assert len(motors) > 0
    assert _ids(cat.runs(source="SPB_IRU_MOTORS/MOTOR/X", key="image.data")) == set()


def test_bad_filters_name_the_problem(cat) -> None:
    with pytest.raises(QueryError, match="proposal='x'"):
        cat.runs(proposal="x")
    with pytest.raises(QueryError, match="SOURCE KEY OP VALUE"):
        cat.runs(run_values="MOTOR/X actualPosition 3")
    with pytest.raises(TypeError):
        cat.runs(colour="red")


def test_run_value_conditions_parse_numbers_and_strings() -> None:
    assert parse_run_value("A/B/C pos >= 3.5") == RunValueCondition("A/B/C", "pos", ">=", 3.5)
    assert parse_run_value("A/B/C n == 3").value == 3
    assert parse_run_value("A/B/C state == ON").value == "ON"
    assert parse_run_value("A/B/C label = '12'").value == "12"
    assert RunValueCondition("s", "k", "<", 3).matches(2.5)
    assert not RunValueCondition("s", "k", "==", 3).matches("3")
    assert not RunValueCondition("s", "k", ">", 0).matches(float("nan"))


# -- brute force: open every file and check --------------------------------

def _scan(tree_root: Path) -> dict[tuple[int, int, str], dict[str, Any]]:
    """Per run: sources -> (section, keys, run values), from FileAccess of every file."""
    found: dict[tuple[int, int, str], dict[str, Any]] = {}
    for path in sorted(glob.glob(str(tree_root / "*/*/p*/*/r*/*.h5"))):
        parts = Path(path).parts
        key = (int(parts[-4][1:]), int(parts[-2][1:]), parts[-3])
        run = found.setdefault(key, {})
        fa = FileAccess(path)
        for source in fa.all_sources:
            section = fa.source_section(source)
            entry = run.setdefault(source, (section, set(), []))
            entry[1].update(fa.get_keys(source))
            if section == "CONTROL":
                entry[2].append(fa.get_run_values(source))
    return found


def _brute(scan: dict, source: str, key: str | None,
           conditions: list[RunValueCondition]) -> set[tuple[int, int, str]]:
    hits = set()
    for run, sources in scan.items():
        def has_key(name: str) -> bool:
            if key is None or key == "*":  # '*' selects a whole source, as in select()
                return True
            section, keys, _ = sources[name]
            pattern = control_key_pattern(key) if section == "CONTROL" else key
            return bool(match_names(pattern, sorted(keys)))

        def satisfied(cond: RunValueCondition) -> bool:
            for name in match_names(cond.source, sorted(sources)):
                for values in sources[name][2]:
                    names = sorted(values)
                    keys = set(match_names(cond.key, names))
                    if not cond.key.endswith((".value", "*")):
                        keys |= set(match_names(cond.key + ".value", names))
                    if any(cond.matches(values[k]) for k in keys):
                        return True
            return False

        if (any(has_key(s) for s in match_names(source, sorted(sources)))
                and all(satisfied(c) for c in conditions)):
            hits.add(run)
    return hits


QUERIES = [
    ("*", None, []),
    ("*XGM*", "data.intensityTD", []),
    ("*", "beamPosition.ixPos", []),
    ("*CAM*", "*", []),
    ("SPB_IRU_MOTORS/MOTOR/?", "actualPosition", []),
    ("*", None, ["SPB_IRU_MOTORS/MOTOR/X actualPosition >= 87"]),
    ("*", None, ["SPB_IRU_MOTORS/MOTOR/* actualPosition < 80"]),
    ("*", None, ["SPB_IRU_MOTORS/MOTOR/Y state == ON"]),
    ("*", None, ["*CAM/1 triggerMode != EXTERNAL"]),
    ("*", None, ["*XGM/DOOCS/MAIN beamPosition.ixPos.value > 0",
                 "SPB_IRU_MOTORS/MOTOR/X actualPosition > 0"]),
    ("*AGIPD*", "image.data", ["SPB_IRU_MOTORS/MOTOR/Z targetPosition == 150"]),
    ("*", None, ["SPB_IRU_SIDEMIC_CAM/CAM/1 exposureTime.timestamp > 0"]),
]


def test_queries_equal_a_brute_force_scan(cat, tree_root: Path) -> None:
    scan = _scan(tree_root)
    assert len(scan) == 6
    nonempty = 0
    for source, key, texts in QUERIES:
        conditions = [parse_run_value(t) for t in texts]
        expected = _brute(scan, source, key, conditions)
        got = _ids(cat.runs(source=source, key=key, run_values=conditions))
        assert got == expected, (source, key, texts)
        nonempty += bool(expected) and expected != set(scan)
    # The comparison must discriminate: most queries select some runs, not all.
    assert nonempty >= 6
