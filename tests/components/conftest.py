"""Small generated detector runs shared by the component tests.

Frames are 4 x 3 pixels so every run writes in well under a second; module
files break every 3-4 trains so reading crosses files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from extra_catalog import RunDirectory
from extra_catalog.testing import XTDFModule, write_file, write_run

from ._helpers import FIRST, SHAPE


def _agipd_module(m: int, **kw) -> XTDFModule:
    kw.setdefault("frames_per_train", 4)
    return XTDFModule(f"SPB_DET_AGIPD1M-1/DET/{m}CH0", detector="AGIPD", frame_shape=SHAPE, **kw)


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Run directories by name."""
    base = tmp_path_factory.mktemp("components")
    common = dict(n_trains=6, trains_per_sequence=3, frame_shape=SHAPE)
    made = {
        "agipd_raw": dict(detector="AGIPD1M", n_modules=3, frames_per_train=4),
        "agipd_proc": dict(detector="AGIPD1M", n_modules=3, frames_per_train=4, data="proc"),
        "lpd_raw": dict(detector="LPD1M", n_modules=2, frames_per_train=6),
        "lpd_odd": dict(detector="LPD1M", n_modules=1, frames_per_train=4, n_trains=2),
        "dssc_raw": dict(detector="DSSC1M", n_modules=2, frames_per_train=5,
                         trains_per_sequence=4),
        "jf_raw": dict(detector="JUNGFRAU", n_modules=2),
        "jf_proc": dict(detector="JUNGFRAU", n_modules=2, data="proc"),
    }
    out = {}
    for name, kw in made.items():
        out[name] = base / name
        write_run(out[name], **{**common, **kw})
    # Modules 0, 3 and 5: module 3 lacks trains 10002-10003, module 5 10000 and 10005.
    out["gaps"] = base / "gaps"
    write_run(out["gaps"], n_trains=6, trains_per_sequence=3, aggregators={
        "AGIPD00": [_agipd_module(0)],
        "AGIPD03": [_agipd_module(3, skip_trains=(FIRST + 2, FIRST + 3))],
        "AGIPD05": [_agipd_module(5, skip_trains=(FIRST, FIRST + 5))]})
    out["inconsistent"] = base / "inconsistent"
    write_run(out["inconsistent"], n_trains=4, aggregators={
        "AGIPD00": [_agipd_module(0)], "AGIPD01": [_agipd_module(1, frames_per_train=5)]})
    out["two_detectors"] = base / "two_detectors"
    write_run(out["two_detectors"], n_trains=4, aggregators={
        "AGIPD00": [_agipd_module(0)],
        "AGIPD01": [XTDFModule("MID_DET_AGIPD1M-1/DET/1CH0", detector="AGIPD",
                               frame_shape=SHAPE, frames_per_train=4)]})
    # Varying frames: 4 per train in the first file, 2 in the second (both modules).
    out["varying"] = base / "varying"
    for m in (0, 1):
        for seq, (first, frames) in enumerate([(FIRST, 4), (FIRST + 3, 2)]):
            write_file(out["varying"] / f"RAW-R0001-AGIPD{m:02d}-S{seq:05d}.h5",
                       [_agipd_module(m, frames_per_train=frames)], n_trains=3,
                       first_train_id=first, sequence=seq)
    return out


@pytest.fixture(scope="session")
def open_(runs):
    """Open a named run: ``open_('agipd_raw')``."""
    def opener(name: str):
        return RunDirectory(runs[name])
    return opener

