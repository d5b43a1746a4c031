"""Base class of device descriptions and helpers for CONTROL properties."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Callable, ClassVar

import numpy as np

from .._common import MockDataError, name_hash, train_timestamps_ns
from ..context import ControlProperty, WriteContext

__all__ = ["Device", "UNITS", "control_property", "device_from_dict", "PROPERTY_LAG_NS"]

#: A changing CONTROL value is stamped this long before its train.
PROPERTY_LAG_NS = 20_000_000

#: Karabo unit attributes (set on the property group) by short unit name.
UNITS: dict[str, dict[str, str]] = {
    "mm": {"unitSymbol": "m", "metricPrefixSymbol": "m", "unitName": "meter",
           "metricPrefixName": "milli"},
    "nm": {"unitSymbol": "m", "metricPrefixSymbol": "n", "unitName": "meter",
           "metricPrefixName": "nano"},
    "uJ": {"unitSymbol": "J", "metricPrefixSymbol": "u", "unitName": "joule",
           "metricPrefixName": "micro"},
    "us": {"unitSymbol": "s", "metricPrefixSymbol": "u", "unitName": "second",
           "metricPrefixName": "micro"},
    "Hz": {"unitSymbol": "Hz", "metricPrefixSymbol": "", "unitName": "hertz",
           "metricPrefixName": ""},
    "V": {"unitSymbol": "V", "metricPrefixSymbol": "", "unitName": "volt",
          "metricPrefixName": ""},
    "": {},
}

_DEVICE_TYPES: dict[str, type["Device"]] = {}


@dataclass
class Device:
    """A device (one or more sources) that knows how to write itself into a file.

    Subclasses are dataclasses whose fields are plain values, so a device
    round-trips through :meth:`to_dict` / :func:`device_from_dict` (the
    generator stores its recipe in each file to grow it later).

    Attributes
    ----------
    name : str
        Karabo device ID, e.g. ``'SA1_XTD2_XGM/DOOCS/MAIN'``.
    """

    name: str
    kind: ClassVar[str] = "device"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _DEVICE_TYPES[cls.__name__] = cls

    def write(self, ctx: WriteContext) -> None:
        """Write this device's sections and register its INDEX entries."""
        raise NotImplementedError(type(self).__name__)

    def source_names(self) -> list[str]:
        """Names of the sources this device writes."""
        raise NotImplementedError(type(self).__name__)

    def hash(self, seed: int) -> int:
        """Per-device offset of the value formulas: ``name_hash(name, seed) % 1000``."""
        return name_hash(self.name, seed) % 1000

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON description (``type`` plus the dataclass fields)."""
        return {"type": type(self).__name__, **asdict(self)}


def device_from_dict(data: dict[str, Any]) -> Device:
    """Rebuild a device from :meth:`Device.to_dict` output (lists become tuples)."""
    data = dict(data)
    cls = _DEVICE_TYPES.get(data.pop("type", ""))
    if cls is None:
        raise MockDataError(f"unknown device type in recipe: {data!r}")
    names = {f.name for f in fields(cls)}
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names}
    return cls(**kwargs)


def control_property(ctx: WriteContext, path: str, formula: Callable[[np.ndarray], np.ndarray],
                     *, unit: str = "", constant: bool = False,
                     attrs: dict[str, object] | None = None) -> ControlProperty:
    """Evaluate a value formula for the file's trains and the run start.

    Timestamps are the train timestamp minus :data:`PROPERTY_LAG_NS` for
    changing values, and the RUN timestamp (1 s before the run's first train)
    for constant ones.
    """
    values = np.asarray(formula(ctx.train_ids))
    run_value = np.asarray(formula(np.array([ctx.run_first_train_id], dtype=np.uint64)))
    run_ts = ctx.run_timestamp()
    if constant:
        timestamps = np.full(ctx.n_trains, run_ts, dtype=np.uint64)
    else:
        with np.errstate(over="ignore"):
            timestamps = train_timestamps_ns(ctx.train_ids) - np.uint64(PROPERTY_LAG_NS)
    all_attrs = {**UNITS[unit], **(attrs or {})}
    return ControlProperty(path, values, timestamps, run_value, run_ts, all_attrs)


def mod(train_ids: np.ndarray, m: int) -> np.ndarray:
    """``train_ids % m`` as int64 (safe for bogus uint64 IDs)."""
    return (np.asarray(train_ids, dtype=np.uint64) % np.uint64(m)).astype(np.int64)
