"""Shared constants and small pure helpers of the mock-data generator."""

from __future__ import annotations

import zlib
from datetime import datetime, timezone

import numpy as np

from ..exceptions import ExtraCatalogError

__all__ = [
    "MockDataError",
    "FORMAT_VERSIONS",
    "TRAIN_PERIOD_NS",
    "TIMESTAMP_ORIGIN_NS",
    "check_format_version",
    "version_at_least",
    "name_hash",
    "train_timestamps_ns",
    "karabo_date",
]

#: File format versions the generator writes (0.5 has no version dataset).
FORMAT_VERSIONS: tuple[str, ...] = ("0.5", "1.0", "1.1", "1.2", "1.3")

#: Trains come at 10 Hz.
TRAIN_PERIOD_NS = 100_000_000

#: INDEX/timestamp of train ID 0 (ns since the epoch); train t is at
#: ``TIMESTAMP_ORIGIN_NS + t * TRAIN_PERIOD_NS`` (2026-01-01T00:00:00Z for t = 0).
TIMESTAMP_ORIGIN_NS = 1_767_225_600 * 1_000_000_000


class MockDataError(ExtraCatalogError, ValueError):
    """The generator was asked for something it cannot write (bad parameters)."""


def check_format_version(version: str) -> str:
    """Return *version* if the generator supports it, else raise MockDataError."""
    if version not in FORMAT_VERSIONS:
        raise MockDataError(
            f"format_version {version!r} is not one of {', '.join(FORMAT_VERSIONS)}"
        )
    return version


def version_at_least(version: str, minimum: str) -> bool:
    """Compare two ``'major.minor'`` format versions."""
    def parse(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in v.split("."))
    return parse(version) >= parse(minimum)


def name_hash(name: str, seed: int = 0) -> int:
    """A stable non-negative integer for *name* and *seed*, the same in every process.

    ``zlib.crc32(f"{seed}:{name}")``; Python's ``hash()`` is salted per process,
    which would make parallel generation non-deterministic.
    """
    return zlib.crc32(f"{seed}:{name}".encode())


def train_timestamps_ns(train_ids: np.ndarray) -> np.ndarray:
    """INDEX/timestamp values: ``TIMESTAMP_ORIGIN_NS + t * TRAIN_PERIOD_NS`` (uint64, wrapping)."""
    tids = np.asarray(train_ids, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return np.uint64(TIMESTAMP_ORIGIN_NS) + tids * np.uint64(TRAIN_PERIOD_NS)


def karabo_date(timestamp_ns: int) -> str:
    """Format a time in ns since the epoch as METADATA dates are: ``YYYYMMDDTHHMMSSZ``."""
    seconds = int(timestamp_ns) // 1_000_000_000
    # Bogus train IDs give absurd times; clamp so formatting never fails.
    seconds = min(max(seconds, 0), 253_402_300_799)
    when = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return when.strftime("%Y%m%dT%H%M%SZ")
