"""Check again where unchanged files are stored (``xfel-index crawl --check-locality``).

dCache moves files between disk and tape without changing them, so a crawl
that only reads new and changed files would keep an old answer for ever.
With ``check_locality``, the crawl also asks dCache about every unchanged
file that is on dCache (or whose locality was never recorded, e.g. in a
catalogue made before locality was), reading only the small pseudo-file, in
worker processes with the crawl's per-file deadline. Files not on dCache
are never asked again: they do not move to tape.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..catalog import Catalog
from ..catalog.locality import record_localities, unchecked_files
from ..fileaccess.locality import ERROR, TIMEOUT, read_locality
from .pool import DeadlinePool

if TYPE_CHECKING:
    from .crawler import CrawlOptions
    from .summary import CrawlSummary

__all__ = ["recheck_localities"]


def _state(path: str) -> str:
    """The locality of one file (in a worker process)."""
    return read_locality(path)


def recheck_localities(catalog: Catalog, roots: Sequence[Path], options: CrawlOptions,
                       started: datetime, summary: CrawlSummary) -> None:
    """Ask dCache again about files checked before *started*, and record the answers.

    Each run's answers are written in one statement; a pseudo-file that does
    not answer within ``options.timeout`` is recorded as ``TIMEOUT``.
    """
    stale = unchecked_files(catalog, roots, started, categories=options.categories,
                            proposals=options.proposals)
    paths = [os.path.join(run, name) for run, names in stale.items() for name in names]
    if not paths:
        return
    found: dict[str, dict[str, str]] = defaultdict(dict)
    processes = max(1, min(options.processes or os.cpu_count() or 1, len(paths)))
    with DeadlinePool(_state, processes=processes, timeout=options.timeout) as pool:
        for result in pool.map_unordered(paths):
            state = (TIMEOUT if result.timed_out else ERROR if result.error is not None
                     else str(result.value))
            run, name = os.path.split(result.item)
            found[run][name] = state
    for run, states in found.items():
        record_localities(catalog, run, states)
    summary.localities_checked += len(paths)
