"""Exceptions of the query layer.

They derive from :class:`~extra_catalog.exceptions.CatalogError`, so the
command line reports them as one line (exit status 2) like every other
catalogue problem.
"""

from __future__ import annotations

from ..exceptions import CatalogError

__all__ = ["QueryError", "QueryTimeoutError"]


class QueryError(CatalogError, ValueError):
    """A query was refused (not read-only, several statements, bad filter) or failed."""


class QueryTimeoutError(QueryError, TimeoutError):
    """A query ran longer than the allowed time and was stopped."""
