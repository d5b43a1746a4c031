"""extra_catalog: European XFEL data through a catalogue.

A drop-in for EXtra-data's public API whose metadata comes from a SQL
catalogue instead of every HDF5 file. Public names are imported lazily, so
``import extra_catalog`` (and the command-line tools) stay fast and do not
load h5py, pandas or xarray until they are needed.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__

# Public name -> module that defines it. Filled in as the layers land.
_LAZY: dict[str, str] = {
    "FileAccess": "extra_catalog.fileaccess",
    "Catalog": "extra_catalog.query",
    "by_id": "extra_catalog.reader.selection",
    "by_index": "extra_catalog.reader.selection",
    "DataCollection": "extra_catalog.reader.collection",
    "SourceData": "extra_catalog.reader.sourcedata",
    "KeyData": "extra_catalog.reader.keydata",
    "open_run": "extra_catalog.reader.opening",
    "RunDirectory": "extra_catalog.reader.opening",
    "H5File": "extra_catalog.reader.opening",
    "SourceNameError": "extra_catalog.exceptions",
    "PropertyNameError": "extra_catalog.exceptions",
    "TrainIDError": "extra_catalog.exceptions",
    "AliasError": "extra_catalog.exceptions",
    "AliasIndexer": "extra_catalog.reader.aliases",
    "MultiRunError": "extra_catalog.exceptions",
    "stack_data": "extra_catalog.stacking",
    "stack_detector_data": "extra_catalog.stacking",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'extra_catalog' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
