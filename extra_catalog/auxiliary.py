"""Auxiliary (REDUCTION and ERRATA) sources, at EXtra-data's module path.

``from extra_catalog.auxiliary import AuxiliaryIndexer`` works as
``from extra_data.auxiliary import AuxiliaryIndexer`` does.
"""

from .reader.auxiliary import AuxiliaryIndexer

__all__ = ["AuxiliaryIndexer"]
