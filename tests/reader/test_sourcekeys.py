"""Source/key selection: select/deselect argument forms, globs, CONTROL .value."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet

import pytest
from hypothesis import given
from hypothesis import strategies as st

from extra_catalog.exceptions import PropertyNameError, SourceNameError
from extra_catalog.reader.sourcekeys import (
    deselect_sources_keys,
    resolve_key,
    select_source_keys,
    select_sources_keys,
    selected_index_groups,
    union_selections,
)

XGM = "SA1_XTD2_XGM/DOOCS/MAIN"
XGM_OUT = "SA1_XTD2_XGM/DOOCS/MAIN:output"
AGIPD0 = "SPB_DET_AGIPD1M-1/DET/0CH0:xtdf"
AGIPD1 = "SPB_DET_AGIPD1M-1/DET/1CH0:xtdf"
RUN_ONLY = "SPB_IRU_MOTORS/MDL/CONFIG"

KEYS: dict[str, frozenset[str]] = {
    XGM: frozenset({"beamPosition.ixPos.value", "beamPosition.ixPos.timestamp",
                    "beamPosition.iyPos.value", "beamPosition.iyPos.timestamp",
                    "pulseEnergy.photonFlux.value", "pulseEnergy.photonFlux.timestamp"}),
    XGM_OUT: frozenset({"data.intensityTD", "data.trainId"}),
    AGIPD0: frozenset({"image.data", "image.mask", "image.pulseId", "header.pulseCount"}),
    AGIPD1: frozenset({"image.data", "image.mask", "image.pulseId", "header.pulseCount"}),
    RUN_ONLY: frozenset(),
}
CONTROL = frozenset({XGM, RUN_ONLY})


def select(*args: object) -> dict:
    return select_sources_keys(*args, source_keys=KEYS, control_sources=CONTROL)


def deselect(*args: object) -> dict:
    return deselect_sources_keys(*args, source_keys=KEYS, control_sources=CONTROL)


# --- globs -----------------------------------------------------------------------


def test_source_and_key_globs() -> None:
    assert select("*/DET/*", "image.*") == {
        AGIPD0: {"image.data", "image.mask", "image.pulseId"},
        AGIPD1: {"image.data", "image.mask", "image.pulseId"},
    }


def test_star_crosses_slashes_and_colons() -> None:
    assert set(select("SA1*")) == {XGM, XGM_OUT}
    assert set(select("*:output")) == {XGM_OUT}
    assert set(select("*")) == set(KEYS)


def test_other_wildcards_and_case() -> None:
    assert set(select("SPB_DET_AGIPD1M-1/DET/[0]CH?:xtdf")) == {AGIPD0}
    assert set(select("SPB_DET_AGIPD1M-1/DET/[!0]CH0:xtdf")) == {AGIPD1}
    with pytest.raises(ValueError):
        select("spb_det*")  # globs are case-sensitive


def test_star_key_selects_whole_source_even_without_keys() -> None:
    assert select(RUN_ONLY) == {RUN_ONLY: None}
    assert select("*/DET/*", "*") == {AGIPD0: None, AGIPD1: None}


def test_control_key_without_value_suffix() -> None:
    assert select(XGM, "beamPosition.ixPos") == {XGM: {"beamPosition.ixPos.value"}}
    assert select(XGM, "beamPosition.ixPos.value") == {XGM: {"beamPosition.ixPos.value"}}
    assert select(XGM, "beamPosition.?xPos") == {XGM: {"beamPosition.ixPos.value"}}


def test_control_glob_ending_in_star_includes_timestamps() -> None:
    assert select(XGM, "beamPosition.ix*") == {
        XGM: {"beamPosition.ixPos.value", "beamPosition.ixPos.timestamp"}}
    assert select(XGM, "*.value") == {
        XGM: {"beamPosition.ixPos.value", "beamPosition.iyPos.value",
              "pulseEnergy.photonFlux.value"}}


def test_instrument_keys_get_no_value_suffix() -> None:
    assert select("*XGM*", "data.trainId") == {XGM_OUT: {"data.trainId"}}


def test_sources_lacking_the_key_are_left_out() -> None:
    assert select("*", "image.data") == {AGIPD0: {"image.data"}, AGIPD1: {"image.data"}}


def test_no_match_is_a_value_error_naming_the_pattern() -> None:
    with pytest.raises(ValueError, match=r"^No matches for pattern \('\*/DET/\*', 'nope'\)$"):
        select("*/DET/*", "nope")
    with pytest.raises(ValueError, match=r"^No matches for pattern \('MISSING', '\*'\)$"):
        select("MISSING")


# --- iterables -------------------------------------------------------------------


def test_iterable_of_globs_and_pairs_is_a_union() -> None:
    assert select(["*XGM*", (AGIPD0, "image.data"), (AGIPD0, "header.*")]) == {
        XGM: None, XGM_OUT: None, AGIPD0: {"image.data", "header.pulseCount"}}
    assert select([(AGIPD0, "image.data"), (AGIPD0, "*")]) == {AGIPD0: None}


def test_any_pattern_matching_nothing_fails() -> None:
    with pytest.raises(ValueError, match="No matches for pattern"):
        select(["*XGM*", "NOTHING*"])


def test_empty_iterable_selects_nothing() -> None:
    assert select([]) == {}


@pytest.mark.parametrize("bad", [[("a", "b", "c")], [5], [(AGIPD0, 1)]])
def test_malformed_patterns_are_type_errors(bad: object) -> None:
    with pytest.raises(TypeError, match="source globs or"):
        select(bad)


@pytest.mark.parametrize("bad", [5, None, 2.0])
def test_unknown_selection_type(bad: object) -> None:
    with pytest.raises(TypeError, match="^Unknown selection type"):
        select(bad)


# --- dicts -----------------------------------------------------------------------


def test_dict_of_exact_names() -> None:
    assert select({AGIPD0: {"image.data"}, XGM: set(), XGM_OUT: None, RUN_ONLY: {}}) == {
        AGIPD0: {"image.data"}, XGM: None, XGM_OUT: None, RUN_ONLY: None}


def test_dict_control_keys_may_omit_value() -> None:
    assert select({XGM: {"beamPosition.ixPos", "beamPosition.iyPos.timestamp"}}) == {
        XGM: {"beamPosition.ixPos.value", "beamPosition.iyPos.timestamp"}}


def test_dict_does_not_expand_globs() -> None:
    with pytest.raises(SourceNameError):
        select({"*/DET/*": None})
    with pytest.raises(PropertyNameError):
        select({AGIPD0: {"image.*"}})


def test_dict_unknown_source_and_key_messages() -> None:
    with pytest.raises(SourceNameError, match="no source named 'NOPE/X/Y'"):
        select({"NOPE/X/Y": None})
    with pytest.raises(PropertyNameError, match="No property 'image.nope' for source") as info:
        select({AGIPD0: {"image.nope"}})
    assert info.value.source == AGIPD0
    assert isinstance(info.value, KeyError)


@pytest.mark.parametrize("keys", [["image.data"], "image.data", ("image.data",)])
def test_dict_values_must_be_sets(keys: object) -> None:
    with pytest.raises(TypeError, match="keys in selection dict should be a set or None"):
        select({AGIPD0: keys})


# --- deselect --------------------------------------------------------------------


def test_deselect_keys_and_sources() -> None:
    assert deselect("*/DET/*", "image.*") == {
        XGM: None, XGM_OUT: None, RUN_ONLY: None,
        AGIPD0: {"header.pulseCount"}, AGIPD1: {"header.pulseCount"}}
    assert deselect("*XGM*") == {AGIPD0: None, AGIPD1: None, RUN_ONLY: None}


def test_deselect_every_key_drops_the_source() -> None:
    assert XGM_OUT not in deselect(XGM_OUT, "data.*")


def test_deselect_control_property_keeps_its_timestamp() -> None:
    left = deselect(XGM, "beamPosition.ixPos")[XGM]
    assert left is not None
    assert "beamPosition.ixPos.value" not in left
    assert "beamPosition.ixPos.timestamp" in left


def test_deselect_errors_like_select() -> None:
    with pytest.raises(ValueError, match="No matches for pattern"):
        deselect("NOTHING")
    with pytest.raises(SourceNameError):
        deselect({"NOTHING": None})


# --- one source -------------------------------------------------------------------


def test_select_source_keys_forms() -> None:
    xgm = KEYS[XGM]
    assert select_source_keys("beamPosition.*", xgm, source=XGM, is_control=True) == {
        "beamPosition.ixPos.value", "beamPosition.ixPos.timestamp",
        "beamPosition.iyPos.value", "beamPosition.iyPos.timestamp"}
    assert select_source_keys("pulseEnergy.photonFlux", xgm, source=XGM,
                              is_control=True) == {"pulseEnergy.photonFlux.value"}
    assert select_source_keys({"beamPosition.ixPos"}, xgm, source=XGM,
                              is_control=True) == {"beamPosition.ixPos.value"}
    for everything in (None, set(), "*"):
        assert select_source_keys(everything, xgm, source=XGM, is_control=True) is None


def test_select_source_keys_nothing_matches() -> None:
    with pytest.raises(PropertyNameError, match="No property 'image.n\\*'"):
        select_source_keys("image.n*", KEYS[AGIPD0], source=AGIPD0, is_control=False)
    with pytest.raises(PropertyNameError):
        select_source_keys({"image.data", "gone"}, KEYS[AGIPD0], source=AGIPD0,
                           is_control=False)


def test_resolve_key() -> None:
    assert resolve_key("beamPosition.ixPos", KEYS[XGM], is_control=True) == \
        "beamPosition.ixPos.value"
    assert resolve_key("beamPosition.ixPos.timestamp", KEYS[XGM], is_control=True) == \
        "beamPosition.ixPos.timestamp"
    assert resolve_key("image", KEYS[AGIPD0], is_control=False) is None
    # only CONTROL keys carry .value
    assert resolve_key("data", {"data.value"}, is_control=False) is None


def test_union_selections_none_wins() -> None:
    merged = union_selections([{AGIPD0: {"image.data"}, XGM: None},
                               {AGIPD0: {"image.mask"}, XGM: {"a.value"}},
                               {XGM_OUT: frozenset()}])
    assert merged == {AGIPD0: {"image.data", "image.mask"}, XGM: None, XGM_OUT: frozenset()}


def test_selected_index_groups() -> None:
    def no_lookup() -> set[str]:
        raise AssertionError("all_groups must only be called for None")

    assert selected_index_groups({"a.value"}, is_control=True, all_groups=no_lookup) == {""}
    assert selected_index_groups({"image.data", "image.mask", "header.pulseCount"},
                                 is_control=False, all_groups=no_lookup) == {"image", "header"}
    assert selected_index_groups(None, is_control=False,
                                 all_groups=lambda: {"image", "detector"}) == {"image", "detector"}


class CountingMapping(Mapping[str, AbstractSet[str]]):
    """Records which sources had their keys looked up."""

    def __init__(self, data: Mapping[str, AbstractSet[str]]) -> None:
        self.data = data
        self.looked_up: list[str] = []

    def __getitem__(self, source: str) -> AbstractSet[str]:
        self.looked_up.append(source)
        return self.data[source]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __contains__(self, source: object) -> bool:
        return source in self.data

    def __len__(self) -> int:
        return len(self.data)


def test_keys_are_only_looked_up_when_needed() -> None:
    lazy = CountingMapping(KEYS)
    select_sources_keys(["*", (AGIPD0, "image.data")], source_keys=lazy, control_sources=CONTROL)
    assert lazy.looked_up == [AGIPD0]


# --- properties against a brute-force definition -----------------------------------

NAME = st.text(alphabet="ab/:.", min_size=1, max_size=5)


def glob_from(name: str, draw: st.DrawFn) -> str:
    """A glob made from a name by replacing some characters with wildcards."""
    out = []
    for ch in name:
        out.append(draw(st.sampled_from([ch, ch, "?", "*", "[ab]", "[!a]"])))
    return "".join(out)


@st.composite
def collections_and_patterns(draw: st.DrawFn) -> tuple[dict, frozenset, str, str]:
    sources = draw(st.lists(NAME, min_size=1, max_size=5, unique=True))
    keys = {s: frozenset(draw(st.lists(NAME, max_size=5))) for s in sources}
    control = frozenset(draw(st.sets(st.sampled_from(sources))))
    src_glob = glob_from(draw(st.sampled_from(sources)), draw)
    all_keys = sorted(set().union(*keys.values()))
    key_glob = "*" if not all_keys or draw(st.booleans()) else \
        glob_from(draw(st.sampled_from(all_keys)), draw)
    return keys, control, src_glob, key_glob


def expected_keys(source: str, keys: dict, control: frozenset, key_glob: str) -> set[str]:
    if key_glob == "*":
        return set(keys[source])
    if source in control and not key_glob.endswith((".value", "*")):
        key_glob += ".value"
    return {k for k in keys[source] if fnmatch.fnmatchcase(k, key_glob)}


@given(collections_and_patterns())
def test_select_matches_fnmatch_definition(case: tuple) -> None:
    keys, control, src_glob, key_glob = case
    expected = {
        s: expected_keys(s, keys, control, key_glob) for s in keys
        if fnmatch.fnmatchcase(s, src_glob)
    }
    expected = {s: k for s, k in expected.items() if k or key_glob == "*"}
    if not expected:
        with pytest.raises(ValueError, match="No matches for pattern"):
            select_sources_keys(src_glob, key_glob, source_keys=keys, control_sources=control)
        return
    got = select_sources_keys(src_glob, key_glob, source_keys=keys, control_sources=control)
    assert {s: (set(keys[s]) if k is None else set(k)) for s, k in got.items()} == expected


@given(collections_and_patterns())
def test_select_and_deselect_partition_every_key(case: tuple) -> None:
    keys, control, src_glob, key_glob = case
    kwargs = {"source_keys": keys, "control_sources": control}
    try:
        chosen = select_sources_keys(src_glob, key_glob, **kwargs)
    except ValueError:
        return
    left = deselect_sources_keys(src_glob, key_glob, **kwargs)
    for source, available in keys.items():
        picked = chosen.get(source, frozenset())
        picked = available if picked is None else picked
        kept = left.get(source, frozenset())
        kept = available if kept is None else kept
        assert picked | kept == available
        assert not picked & kept
