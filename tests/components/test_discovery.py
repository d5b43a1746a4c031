"""Finding a detector's modules: names, raw or corrected data, module and train choice."""

from __future__ import annotations

import numpy as np
import pytest

from extra_catalog import SourceNameError
from extra_catalog.components import (AGIPD1M, DSSC1M, JUNGFRAU, LPD1M,
                                      identify_multimod_detectors)

from ._helpers import FIRST, quiet

FALLBACK = "Falling back to raw data for backwards compatibility"


def test_raw_data_found_with_a_warning(open_):
    with pytest.warns(UserWarning, match=FALLBACK):
        det = AGIPD1M(open_("agipd_raw"))
    assert det.detector_name == "SPB_DET_AGIPD1M-1"
    assert det.source_to_modno == {f"SPB_DET_AGIPD1M-1/DET/{m}CH0:xtdf": m for m in range(3)}
    assert det.modno_to_source[2] == "SPB_DET_AGIPD1M-1/DET/2CH0:xtdf"
    assert det.n_modules == 16 and det.module_shape == (512, 128)
    assert repr(det) == ("<AGIPD1M: Data interface for detector 'SPB_DET_AGIPD1M-1' - raw data "
                         "with 3 modules>")


def test_raw_true_takes_raw_data_without_warning(open_, recwarn):
    det = AGIPD1M(open_("agipd_raw"), raw=True)
    assert not [w for w in recwarn if FALLBACK in str(w.message)]
    assert det.frames_per_train == 4


def test_corrected_data_is_preferred_and_named_proc(open_, recwarn):
    det = AGIPD1M(open_("agipd_proc"))
    assert not recwarn.list
    assert set(det.source_to_modno) == {f"SPB_DET_AGIPD1M-1/CORR/{m}CH0:output" for m in range(3)}
    assert "- proc data with 3 modules" in repr(det)
    assert AGIPD1M(open_("agipd_proc"), raw=False).source_to_modno == det.source_to_modno


def test_raw_false_refuses_raw_data(open_):
    with pytest.raises(SourceNameError, match="SPB_DET_AGIPD1M-1/CORR/..."):
        AGIPD1M(open_("agipd_raw"), raw=False)


def test_raw_true_refuses_corrected_data(open_):
    with pytest.raises(SourceNameError, match=r"SPB_DET_AGIPD1M-1/DET/\.\.\."):
        AGIPD1M(open_("agipd_proc"), raw=True)


def test_no_such_detector(open_):
    with pytest.raises(SourceNameError, match="AGIPD1M"):
        AGIPD1M(open_("jf_raw"))
    with pytest.raises(SourceNameError):
        LPD1M(open_("agipd_raw"))


def test_several_detectors_need_a_name(open_):
    run = open_("two_detectors")
    with pytest.raises(ValueError, match="Multiple detectors found in the data: "
                       "'MID_DET_AGIPD1M-1', 'SPB_DET_AGIPD1M-1'. Pass detector_name to "
                       r"AGIPD1M\(\) to pick one."):
        quiet(AGIPD1M, run)
    det = quiet(AGIPD1M, run, detector_name="MID_DET_AGIPD1M-1")
    assert det.modno_to_source == {1: "MID_DET_AGIPD1M-1/DET/1CH0:xtdf"}


def test_modules_subset(open_):
    det = quiet(AGIPD1M, open_("agipd_raw"), modules=[0, 2])
    assert sorted(det.modno_to_source) == [0, 2]
    assert det["image.data"].shape[0] == 2
    with pytest.raises(SourceNameError, match=r"SPB_DET_AGIPD1M-1/\(DET\|CORR\)/\.\.\."):
        quiet(AGIPD1M, open_("agipd_raw"), modules=[7])


@pytest.mark.parametrize("bad", [0, -1])
def test_min_modules_must_be_positive(open_, bad):
    with pytest.raises(ValueError, match=f"min_modules must be a positive integer, not {bad}"):
        quiet(AGIPD1M, open_("agipd_raw"), min_modules=bad)


def test_min_modules_selects_trains(open_):
    det = quiet(AGIPD1M, open_("gaps"))
    assert [int(t) for t in det.train_ids] == list(range(FIRST, FIRST + 6))
    # Three modules except 10000 and 10005 (module 5 missing), 10002-3 (module 3).
    det3 = quiet(AGIPD1M, open_("gaps"), min_modules=3)
    assert [int(t) for t in det3.train_ids] == [FIRST + 1, FIRST + 4]
    with pytest.raises(ValueError, match="No data found with >= 4 modules present"):
        quiet(AGIPD1M, open_("gaps"), min_modules=4)


def test_inconsistent_frame_counts(open_):
    with pytest.raises(ValueError, match=r"Inconsistent frame counts for train 10000: \{4, 5\}"):
        quiet(AGIPD1M, open_("inconsistent"))


def test_frame_counts(open_):
    det = quiet(DSSC1M, open_("dssc_raw"))
    assert det.frame_counts.dtype == np.uint64
    assert list(det.frame_counts.index) == list(range(FIRST, FIRST + 6))
    assert (det.frame_counts == 5).all()
    np.testing.assert_array_equal(det.train_ids_perframe,
                                  np.repeat(np.arange(FIRST, FIRST + 6, dtype=np.uint64), 5))


def test_identify_multimod_detectors(open_):
    found = identify_multimod_detectors(open_("agipd_raw"))
    assert found == {("SPB_DET_AGIPD1M-1", AGIPD1M)}
    assert identify_multimod_detectors(open_("jf_raw"), single=True) == ("SPB_IRDA_JF4M", JUNGFRAU)
    with pytest.raises(ValueError, match="No detector sources identified in the data"):
        identify_multimod_detectors(open_("agipd_raw").select("*XGM*"), single=True)
    with pytest.raises(ValueError, match="Multiple detectors identified: "):
        identify_multimod_detectors(open_("two_detectors"), single=True)
    assert identify_multimod_detectors(open_("agipd_raw"), clses=[LPD1M]) == set()


def test_jungfrau_numbering(open_):
    det = quiet(JUNGFRAU, open_("jf_raw"))
    assert det.source_to_modno == {"SPB_IRDA_JF4M/DET/JNGFR01:daqOutput": 1,
                                   "SPB_IRDA_JF4M/DET/JNGFR02:daqOutput": 2}
    assert det.n_modules == 2
    assert quiet(JUNGFRAU, open_("jf_raw"), n_modules=8).n_modules == 8
    shifted = quiet(JUNGFRAU, open_("jf_raw"), first_modno=2, modules=[2])
    assert shifted.modno_to_source == {1: "SPB_IRDA_JF4M/DET/JNGFR02:daqOutput"}
    assert shifted.n_modules == 1


def test_contains(open_):
    det = quiet(AGIPD1M, open_("agipd_raw"))
    assert "image.data" in det and "header.pulseCount" in det
    assert "image.mask" not in det


def test_raw_and_corrected_in_one_collection(open_, recwarn):
    raw, proc = open_("agipd_raw"), open_("agipd_proc")
    combined = raw.union(proc.select("*/CORR/*:output"))
    det_sources = {f"SPB_DET_AGIPD1M-1/DET/{m}CH0:xtdf" for m in range(3)}
    corr_sources = {f"SPB_DET_AGIPD1M-1/CORR/{m}CH0:output" for m in range(3)}
    as_raw = AGIPD1M(combined, raw=True)
    assert as_raw.data.all_sources == det_sources
    assert "image.mask" not in as_raw and "raw data" in repr(as_raw)
    for kw in ({"raw": False}, {}):
        det = AGIPD1M(combined, **kw)
        assert det.data.all_sources == corr_sources
        assert "image.mask" in det and "proc data" in repr(det)
    assert not [w for w in recwarn if FALLBACK in str(w.message)]


@pytest.mark.parametrize("cls_name, name, family, n_modules", [
    ("AGIPD500K", "HED_DET_AGIPD500K2G", "AGIPD", 8),
    ("LPDSolo", "FXE_DET_LPD_SOLO", "LPD", 1),
    ("DSSC1M", "SCS_DET_DSSC1M-1", "DSSC", 16),
])
def test_other_detector_families(tmp_path, cls_name, name, family, n_modules):
    import extra_catalog.components as components
    from extra_catalog import RunDirectory
    from extra_catalog.testing import XTDFModule, write_run

    write_run(tmp_path, n_trains=2, aggregators={"DET00": [
        XTDFModule(f"{name}/DET/0CH0", detector=family, frame_shape=(4, 3), frames_per_train=3)]})
    cls = getattr(components, cls_name)
    det = cls(RunDirectory(tmp_path), raw=True)
    assert det.detector_name == name and det.n_modules == n_modules
    assert det.get_array("image.data").shape[:3] == (1, 2, 3)
    assert identify_multimod_detectors(RunDirectory(tmp_path)) == {(name, cls)}
