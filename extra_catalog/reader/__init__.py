"""The reading API: collections of sources, keys and trains.

:class:`DataCollection` (:mod:`.collection`, with selection in
:mod:`.dcselect` and data outputs in :mod:`.dcoutputs`), :class:`SourceData`
(:mod:`.sourcedata`), :class:`KeyData` (:mod:`.keydata`) and train iteration
(:mod:`.trains`) are built on the pure selection logic of :mod:`.selection`
(train selectors) and :mod:`.sourcekeys` (source and key selection), and on
:mod:`.chunks` (which contiguous slices of which files hold a selection).
"""

from __future__ import annotations

from .collection import DataCollection
from .keydata import KeyData
from .selection import by_id, by_index
from .sourcedata import SourceData
from .trains import TrainIterator

__all__ = ["by_id", "by_index", "DataCollection", "SourceData", "KeyData", "TrainIterator"]
