"""Multi-module detectors: AGIPD, LPD, DSSC and JUNGFRAU (EXtra-data's ``extra_data.components``).

A detector object gathers the module sources of one detector in a run and
reads a key of every module into one array, module axis first::

    from extra_catalog import open_run
    from extra_catalog.components import AGIPD1M

    agipd = AGIPD1M(open_run(900001, 2))
    arr = agipd.get_array("image.data", pulses=np.s_[:10])   # xarray, (module, train, pulse, ...)
    lazy = agipd["image.data"].dask_array()                    # one dask task per group of trains

Building a detector object uses names and INDEX counts only, which a
catalogued run holds: it opens no file, and each dask task opens only the
files of its own trains.

Modules: :mod:`.discovery` (finding module sources), :mod:`.base` (the
detector object), :mod:`.multimod` (``det[key]``), :mod:`.xtdf` (AGIPD,
LPD, DSSC), :mod:`.jungfrau`, :mod:`.pulses` (pulse selection),
:mod:`.alignment` (where each module's data goes), :mod:`.lazy` (dask),
:mod:`.trains` (iteration).
"""

from __future__ import annotations

from typing import Any

from .base import DETECTOR_CLASSES, MultimodDetectorBase  # noqa: F401
from .discovery import find_detector_names
from .jungfrau import JUNGFRAU
from .multimod import DetectorMaskedKeyData, MultimodKeyData  # noqa: F401
from .trains import MPxDetectorTrainIterator  # noqa: F401
from .xtdf import (AGIPD1M, AGIPD500K, DSSC1M, LPD1M, LPDSolo,  # noqa: F401
                   XtdfDetectorBase, XtdfImageMultimodKeyData, XtdfMaskedKeyData)

__all__ = ["AGIPD1M", "AGIPD500K", "DSSC1M", "LPD1M", "JUNGFRAU", "identify_multimod_detectors"]


def identify_multimod_detectors(data: Any, detector_name: str | None = None, *,
                                single: bool = False, clses: Any = None) -> Any:
    """Find the multi-module detectors in some data.

    Parameters
    ----------
    data : DataCollection
    detector_name : str, optional
        Only detectors with this name.
    single : bool
        Return one ``(name, class)`` pair, raising ValueError unless exactly
        one detector is found; otherwise return a set of such pairs.
    clses : list of classes, optional
        Detector classes to look for (default: all of this module).

    Raises
    ------
    ValueError
        With *single*, no detector or more than one.
    """
    found = {(name, cls) for cls in (clses if clses is not None else DETECTOR_CLASSES)
             for name in find_detector_names(cls, data)
             if detector_name is None or name == detector_name}
    if single:
        if not found:
            raise ValueError("No detector sources identified in the data")
        if len(found) > 1:
            names = ", ".join(name for name, _ in sorted(found, key=lambda p: p[0]))
            raise ValueError(f"Multiple detectors identified: {names}")
        return found.pop()
    return found

