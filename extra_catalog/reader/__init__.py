"""The reading API: collections of sources, keys and trains.

For now this holds the pure selection logic the reader is built on:
:mod:`.selection` (train selectors) and :mod:`.sourcekeys` (source and key
selection). Neither reads files or touches the catalogue.
"""

from __future__ import annotations

from .selection import by_id, by_index

__all__ = ["by_id", "by_index"]
