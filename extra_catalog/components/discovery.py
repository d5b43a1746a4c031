"""Finding a detector's module sources in a collection: names, raw or corrected.

Module sources are named ``<detector>/DET/<n>CH...`` for raw data and
``<detector>/CORR/<n>CH...`` for corrected data (JUNGFRAU: ``MODULE_<n>``,
``RECEIVER-<n>`` or ``JNGFR<n>``). Older corrected data kept the raw
``/DET/`` names, so whether data is raw is decided from its type too. All
of this uses names, dtypes and shapes the catalogue holds: no file is opened.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import SourceNameError

if TYPE_CHECKING:
    from ..reader.collection import DataCollection

__all__ = ["DetectorNaming", "find_detector_names", "find_detector_name", "identify_sources"]


class DetectorNaming:
    """Class attributes naming one detector family's sources (mixed into each class).

    ``_det_name_pat`` matches the detector name; ``_source_raw_pat`` and
    ``_source_corr_pat`` the rest of a raw or corrected module source name,
    with a group ``modno``; ``_main_data_key`` is the key whose entries are
    the frames.
    """

    _det_name_pat = r"([^/]+)"
    _source_raw_pat = r"/DET/(?P<modno>\d+)CH"
    _source_corr_pat = r"/CORR/(?P<modno>\d+)CH"
    _main_data_key = ""

    @classmethod
    def _data_is_raw(cls, data: DataCollection, source: str) -> bool:
        """Whether a module source holds raw data.

        ``/CORR/`` names are always corrected; otherwise raw data is integer
        (corrected data is float), except where a family overrides this.
        """
        if "/CORR/" in source:
            return False
        return bool(np.issubdtype(data[source, cls._main_data_key].dtype, np.integer))


def find_detector_names(cls: type[DetectorNaming], data: DataCollection) -> set[str]:
    """Names of the detectors of family *cls* with module sources in *data*."""
    raw_re = re.compile(f"(?P<detname>{cls._det_name_pat}){cls._source_raw_pat}")
    corr_re = re.compile(f"(?P<detname>{cls._det_name_pat}){cls._source_corr_pat}")
    names = set()
    for source in data.instrument_sources:
        m = raw_re.match(source) or corr_re.match(source)
        if m:
            names.add(m["detname"])
    return names


def find_detector_name(cls: type[DetectorNaming], data: DataCollection) -> str:
    """The one detector of family *cls* in *data*.

    Raises
    ------
    SourceNameError
        None is found.
    ValueError
        More than one is found (pass ``detector_name=``).
    """
    names = find_detector_names(cls, data)
    if not names:
        raise SourceNameError(f"{cls._det_name_pat}({cls._source_raw_pat}|{cls._source_corr_pat})")
    if len(names) > 1:
        listed = ", ".join(repr(n) for n in sorted(names))
        raise ValueError(f"Multiple detectors found in the data: {listed}. "
                         f"Pass detector_name to {cls.__name__}() to pick one.")
    return names.pop()


def _matching(data: DataCollection, pattern: str) -> Iterator[tuple[str, int]]:
    source_re = re.compile(pattern)
    for source in sorted(data.instrument_sources):
        m = source_re.match(source)
        if m:
            yield source, int(m["modno"])


def identify_sources(cls: type[DetectorNaming], data: DataCollection, detector_name: str,
                     modules: Collection[int] | None = None,
                     raw: bool | None = None) -> dict[str, int]:
    """Module sources of *detector_name* -> module number, sorted by number.

    ``raw=True`` takes ``/DET/`` sources and refuses corrected data there;
    ``raw=False`` requires ``/CORR/`` sources (or corrected data under old
    ``/DET/`` names); ``raw=None`` prefers corrected data and falls back to
    raw data with a warning.

    Raises
    ------
    SourceNameError
        No module source (of the kind asked for, among *modules*).
    ValueError
        ``raw=True`` but the ``/DET/`` sources hold corrected data.
    """
    name = re.escape(detector_name)
    if raw is True:
        found = dict(_matching(data, name + cls._source_raw_pat))
        data._prefetch_details(found)  # every module's metadata, before it is probed
        if not all(cls._data_is_raw(data, s) for s in found):
            raise ValueError(f"Raw data was not found: {detector_name}/DET/... sources "
                             f"are from corrected data")
    else:
        found = dict(_matching(data, name + cls._source_corr_pat))
        if not found:
            # Corrected data from before 2026 may use the raw /DET/ names.
            found = dict(_matching(data, name + cls._source_raw_pat))
            data._prefetch_details(found)  # every module's metadata, before it is probed
            if any(cls._data_is_raw(data, s) for s in found):
                if raw is False:
                    raise SourceNameError(f"{detector_name}/CORR/...")
                warnings.warn("Falling back to raw data for backwards compatibility. Please "
                              "pass raw=False to make this warning into an error, or raw=True "
                              "if you intend to work with raw detector data.", stacklevel=3)
    if modules is not None:
        found = {s: n for s, n in found.items() if n in modules}
    if not found:
        kind = "(DET|CORR)" if raw is None else "DET" if raw else "CORR"
        raise SourceNameError(f"{detector_name}/{kind}/...")
    return dict(sorted(found.items(), key=lambda item: item[1]))


def check_min_modules(min_modules: Any) -> int:
    """*min_modules* as a positive int (ValueError otherwise)."""
    if not isinstance(min_modules, (int, np.integer)) or min_modules <= 0:
        raise ValueError(f"min_modules must be a positive integer, not {min_modules!r}")
    return int(min_modules)
