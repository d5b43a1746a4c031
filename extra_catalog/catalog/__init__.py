"""The catalogue: SQL storage of what the crawler learnt about runs and files.

This is the only package that imports SQLAlchemy, and only when one of its
names is first used. It takes and returns plain records
(:mod:`extra_catalog.records`, :mod:`extra_catalog.catalog.records`), never ORM
objects.

Typical use::

    from extra_catalog.catalog import init_catalog, open_catalog, replace_run, load_run

    init_catalog()                      # once: creates the per-user SQLite file
    with open_catalog() as catalog:
        replace_run(catalog, run_info, file_records)
        run = load_run(catalog, run_info.path)
"""

from __future__ import annotations

import importlib
from typing import Any

# Names are imported on first use: the reading path imports the plain
# records and the outline reader without loading SQLAlchemy (~0.3 s).
_LAZY: dict[str, str] = {
    "Catalog": ".engine",
    "default_catalog_path": ".engine",
    "resolve_url": ".engine",
    "FileStat": ".records",
    "ProposalSummary": ".records",
    "RunInfo": ".records",
    "RunProblem": ".records",
    "RunRecord": ".records",
    "RunSummary": ".records",
    "UnreadableFile": ".records",
    "head_revision": ".schema",
    "init_catalog": ".schema",
    "open_catalog": ".schema",
    "upgrade_catalog": ".schema",
    "RunKey": ".store",
    "file_stats": ".store",
    "file_stats_below": ".store",
    "last_crawled": ".store",
    "list_proposals": ".store",
    "list_runs": ".store",
    "load_run": ".store",
    "mark_crawled": ".store",
    "mark_crawled_many": ".store",
    "record_problem": ".store",
    "remove_files": ".store",
    "remove_run": ".store",
    "replace_run": ".store",
    "replace_run_problems": ".store",
    "update_files": ".store",
}

__all__ = [
    "Catalog",
    "default_catalog_path",
    "resolve_url",
    "init_catalog",
    "open_catalog",
    "upgrade_catalog",
    "head_revision",
    "RunInfo",
    "RunRecord",
    "RunSummary",
    "RunProblem",
    "UnreadableFile",
    "FileStat",
    "RunKey",
    "replace_run",
    "update_files",
    "remove_files",
    "remove_run",
    "load_run",
    "file_stats",
    "file_stats_below",
    "list_runs",
    "list_proposals",
    "ProposalSummary",
    "record_problem",
    "replace_run_problems",
    "mark_crawled",
    "mark_crawled_many",
    "last_crawled",
]


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
