"""Combine the module sources of a multi-module detector into one source per train.

Used by ``--append-detector-modules``: the modules of an AGIPD, DSSC or LPD
detector (``<DET>/DET/<n>CH0:xtdf``, or ``<DET>/CORR/<n>CH0:output`` when
corrected data is there) become one source ``<DET>/DET/APPEND`` whose
``image.data``, ``image.gain`` and ``image.mask`` are the modules stacked by
:func:`~extra_catalog.stacking.stack_detector_data` (axis -3, missing
modules filled); the other keys come from the first module present. The
detector families (name patterns, module counts) are those of
:mod:`extra_catalog.components`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["DetectorModules", "find_detector_modules", "append_modules", "STACKED_KEYS"]

#: Keys stacked across modules (the others are taken from one module).
STACKED_KEYS = ("image.data", "image.gain", "image.mask")
#: A module source's number, raw or corrected.
MODULE_PATTERN = r"/(?:DET|CORR)/(\d+)CH"


@dataclass(frozen=True)
class DetectorModules:
    """The module sources of one detector in a selection."""

    name: str
    n_modules: int
    sources: dict[str, int]  # source name -> module number

    @property
    def combined_source(self) -> str:
        """Name of the combined source."""
        return f"{self.name}/DET/APPEND"


def find_detector_modules(sources: set[str] | frozenset[str]) -> DetectorModules | None:
    """The XTDF detector among *sources*, or None.

    Families are tried in the order AGIPD1M, AGIPD500K, DSSC1M, LPD1M,
    LPDSolo, and the first detector name (sorted) of the first family found
    is used. Corrected (``/CORR/``) module sources are preferred to raw ones.
    """
    from ..components import AGIPD1M, AGIPD500K, DSSC1M, LPD1M, LPDSolo

    for family in (AGIPD1M, AGIPD500K, DSSC1M, LPD1M, LPDSolo):
        found: dict[tuple[str, str], dict[str, int]] = {}
        module_re = re.compile(f"(?P<det>{family._det_name_pat})/(?P<kind>DET|CORR)/"
                               r"(?P<modno>\d+)CH")
        for source in sources:
            match = module_re.match(source)
            if match:
                found.setdefault((match["det"], match["kind"]), {})[source] = int(match["modno"])
        if found:
            name = min(det for det, _ in found)
            modules = found.get((name, "CORR")) or found[(name, "DET")]
            n_modules = max(family.n_modules, max(modules.values()) + 1)
            return DetectorModules(name, n_modules, modules)
    return None


def append_modules(train: dict[str, Any], detector: DetectorModules) -> None:
    """Replace the module sources of *train* by the combined source, in place."""
    from ..stacking import stack_detector_data

    present = {src: train[src] for src in sorted(detector.sources, key=detector.sources.get)
               if src in train}
    if not present:
        return
    # Keys other than the stacked ones come from the first module with image data.
    base = next((v for v in present.values() if STACKED_KEYS[0] in v),
                next(iter(present.values())))
    combined = dict(base)
    for key in STACKED_KEYS:
        with_key = {src: values for src, values in present.items() if key in values}
        if with_key:
            combined[key] = stack_detector_data(with_key, key, modules=detector.n_modules,
                                                pattern=MODULE_PATTERN)
    combined["metadata"] = {**combined.get("metadata", {}), "source": detector.combined_source}
    for src in present:
        del train[src]
    train[detector.combined_source] = combined
