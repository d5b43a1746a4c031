"""Queries across runs and proposals: the :class:`Catalog` API and read-only SQL.

Query terms (:mod:`.terms`) are plain data; :mod:`.translate` turns them
into SQL over the catalogue tables; :mod:`.statement` and :mod:`.readonly`
check and run users' own SQL over the documented views; :mod:`.visibility`
decides which proposals a user may see.
"""

from .catalog import DEFAULT_TIMEOUT, VIEWS, Catalog
from .errors import QueryError, QueryTimeoutError
from .terms import RunQuery, RunValueCondition, parse_run_value

__all__ = ["Catalog", "DEFAULT_TIMEOUT", "VIEWS", "QueryError", "QueryTimeoutError",
           "RunQuery", "RunValueCondition", "parse_run_value"]
