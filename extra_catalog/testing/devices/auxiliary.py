"""Auxiliary sources (format 1.3+): data in the REDUCTION and ERRATA sections."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._common import MockDataError, version_at_least
from ..context import InstrumentKey, WriteContext
from .base import Device, mod
from .slow import entry_trains

__all__ = ["AuxiliarySource", "AUX_SECTIONS"]

AUX_SECTIONS = ("REDUCTION", "ERRATA")


@dataclass
class AuxiliarySource(Device):
    """An auxiliary source, listed in ``METADATA/auxiliarySources/<section>``.

    The name may lack a ``':'`` (e.g. ``'TRAINS_OUTSIDE_BUFFER_RANGE'``) or
    name the source it reduces (``'PULSE_REDUCTION/SPB_DET_AGIPD1M-1/DET/0CH0:xtdf'``).
    Data lives in ``<section>/<name>/<group>/...``, indexed in
    ``INDEX/<name>/<group>/{first,count}``; *group* defaults to ``'data'``
    (REDUCTION) or ``'event'`` (ERRATA).

    - REDUCTION, one entry per train: ``<group>.reductionRatio`` (float64)
      = ``0.5 + (t % 10) * 0.05``, ``<group>.wasReduced`` (uint8) = ``t % 2``.
    - ERRATA, one entry for trains with ``t % 5 == 0``, none otherwise:
      ``event.originalTrainIds`` (uint64) = ``t + 1000``, ``event.deviceIds``
      (string) = ``'SA1_XTD2_XGM/DOOCS/MAIN'``, ``event.properties``
      (string) = ``'pulseEnergy.photonFlux'``.

    Only files of format 1.3 or newer may hold auxiliary sources.
    """

    section: str = "REDUCTION"
    group: str | None = None

    def __post_init__(self) -> None:
        if self.section not in AUX_SECTIONS:
            raise MockDataError(f"AuxiliarySource {self.name!r}: section {self.section!r} is not "
                                f"one of {', '.join(AUX_SECTIONS)}")

    @property
    def index_group(self) -> str:
        """The index group of this source."""
        if self.group:
            return self.group
        return "data" if self.section == "REDUCTION" else "event"

    def source_names(self) -> list[str]:
        return [self.name]

    def write(self, ctx: WriteContext) -> None:
        if not version_at_least(ctx.format_version, "1.3"):
            raise MockDataError(f"auxiliary source {self.name!r} needs format_version 1.3 or "
                                f"newer, not {ctx.format_version!r}")
        tids = ctx.train_ids
        if self.section == "REDUCTION":
            counts = np.ones(len(tids), dtype=np.uint64)
            keys = {
                "reductionRatio": InstrumentKey(0.5 + mod(tids, 10) * 0.05),
                "wasReduced": InstrumentKey(mod(tids, 2).astype(np.uint8)),
            }
        else:
            counts = (mod(tids, 5) == 0).astype(np.uint64)
            ev_tids, _ = entry_trains(tids, counts)
            n = len(ev_tids)
            keys = {
                "originalTrainIds": InstrumentKey(ev_tids + np.uint64(1000)),
                "deviceIds": InstrumentKey(np.array(["SA1_XTD2_XGM/DOOCS/MAIN"] * n, dtype=object)),
                "properties": InstrumentKey(np.array(["pulseEnergy.photonFlux"] * n, dtype=object)),
            }
        ctx.add_instrument(self.name, self.index_group, counts, keys, section=self.section)
