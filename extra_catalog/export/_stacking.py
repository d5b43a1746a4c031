"""Combine the module sources of a multi-module detector into one source per train.

Used by ``--append-detector-modules``: AGIPD, DSSC and LPD modules
(``<DET>/DET/<n>CH0:xtdf`` or ``<DET>/CORR/<n>CH0:output``) become one
source ``<DET>/DET/APPEND`` whose ``image.data`` (and ``image.gain``,
``image.mask``) stacks the modules on axis -3, missing modules filled
with NaN (float) or 0; the other keys come from the first module present.

A small private helper of the streamer: the detector components
(``stack_detector_data``) are a separate piece of work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["DetectorModules", "find_detector_modules", "append_modules"]

#: Module counts of the XTDF detector families, by the name part that identifies them.
_FAMILIES = {"AGIPD1M": 16, "AGIPD500K": 8, "DSSC1M": 16, "LPD1M": 16, "LPD_SOLO": 1}
_MODULE_RE = re.compile(
    r"^(?P<det>[^/]*_(?P<family>AGIPD1M|AGIPD500K|DSSC1M|LPD1M|LPD_SOLO)[^/]*)"
    r"/(?:DET|CORR)/(?P<modno>\d+)CH\d+:(?:xtdf|output)$")
#: Keys stacked across modules (the others are taken from one module).
STACKED_KEYS = ("image.data", "image.gain", "image.mask")


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
    """The XTDF detector among *sources* (the first by name if several), or None."""
    found: dict[tuple[str, str], dict[str, int]] = {}
    for source in sources:
        match = _MODULE_RE.match(source)
        if match:
            found.setdefault((match["det"], match["family"]), {})[source] = int(match["modno"])
    if not found:
        return None
    (name, family), modules = min(found.items())
    n_modules = max(_FAMILIES[family], max(modules.values()) + 1)
    return DetectorModules(name, n_modules, modules)


def append_modules(train: dict[str, Any], detector: DetectorModules) -> None:
    """Replace the module sources of *train* by the combined source, in place."""
    present = {src: train[src] for src in sorted(detector.sources, key=detector.sources.get)
               if src in train}
    if not present:
        return
    combined = dict(next(iter(present.values())))
    for key in STACKED_KEYS:
        arrays = {detector.sources[src]: values[key] for src, values in present.items()
                  if key in values}
        if arrays:
            combined[key] = stack_modules(arrays, detector.n_modules)
    combined["metadata"] = {**combined.get("metadata", {}), "source": detector.combined_source}
    for src in present:
        del train[src]
    train[detector.combined_source] = combined


def stack_modules(arrays: dict[int, np.ndarray], n_modules: int, axis: int = -3) -> np.ndarray:
    """Stack per-module arrays on a new *axis*, filling missing modules.

    Modules without entries in this train (empty arrays) count as missing.
    """
    present = {m: a for m, a in arrays.items() if a.size or not any(b.size for b in
                                                                       arrays.values())}
    shapes = {a.shape for a in present.values()}
    dtypes = {a.dtype for a in present.values()}
    if len(shapes) > 1 or len(dtypes) > 1:
        raise ValueError(f"detector modules disagree: shapes {sorted(shapes)}, "
                         f"dtypes {sorted(map(str, dtypes))}")
    shape, dtype = shapes.pop(), dtypes.pop()
    ndim = len(shape) + 1
    where = axis % ndim
    out_shape = shape[:where] + (n_modules,) + shape[where:]
    fill = np.nan if dtype.kind in "fc" else 0
    out = np.full(out_shape, fill, dtype=dtype)
    for modno, array in present.items():
        out[(slice(None),) * where + (modno,)] = array
    return out
