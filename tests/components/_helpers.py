"""Constants and helpers of the component tests."""

from __future__ import annotations

import warnings
from typing import Any

SHAPE = (4, 3)  # pixels of every generated frame
FIRST = 10000  # write_run's first train ID


def quiet(cls: Any, data: Any, **kw: Any) -> Any:
    """A detector object, without the raw-data fallback warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(data, **kw)
