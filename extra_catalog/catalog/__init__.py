"""The catalogue: SQL storage of what the crawler learnt about runs and files.

This is the only package that imports SQLAlchemy. It takes and returns plain
records (:mod:`extra_catalog.records`, :mod:`extra_catalog.catalog.records`),
never ORM objects.

Typical use::

    from extra_catalog.catalog import init_catalog, open_catalog, replace_run, load_run

    init_catalog()                      # once: creates the per-user SQLite file
    with open_catalog() as catalog:
        replace_run(catalog, run_info, file_records)
        run = load_run(catalog, run_info.path)
"""

from .engine import Catalog, default_catalog_path, resolve_url
from .records import FileStat, ProposalSummary, RunInfo, RunProblem, RunRecord, RunSummary, UnreadableFile
from .schema import head_revision, init_catalog, open_catalog, upgrade_catalog
from .store import (
    RunKey,
    file_stats,
    file_stats_below,
    last_crawled,
    list_proposals,
    list_runs,
    load_run,
    mark_crawled,
    mark_crawled_many,
    record_problem,
    remove_files,
    remove_run,
    replace_run,
    replace_run_problems,
    update_files,
)

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
