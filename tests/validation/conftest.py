"""Generated files with one fault each, for the validation tests."""

from __future__ import annotations

from pathlib import Path

from extra_catalog.testing import XGM, Motor, XTDFModule, write_file

N_TRAINS = 10
FIRST = 10000


def devices() -> list:
    """A control source, a fast XGM output and a small detector module."""
    return [XGM("SA1_XTD2_XGM/DOOCS/MAIN"), Motor("MID_DET/MOTOR/X"),
            XTDFModule("MID_DET_AGIPD1M-1/DET/0CH0", frames_per_train=4, frame_shape=(4, 4))]


def faulty_file(directory: Path, *faults: str, **kwargs: object) -> Path:
    """One file of :func:`devices` with *faults*, 10 trains from 10000."""
    return write_file(directory / "RAW-R0001-DA01-S00000.h5", devices(), n_trains=N_TRAINS,
                      first_train_id=FIRST, faults=faults, **kwargs)  # type: ignore[arg-type]
