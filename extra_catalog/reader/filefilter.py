"""Applying ``file_filter=`` when a run is opened, from the catalogue where it can.

EXtra-data calls the filter with the list of file paths and keeps the paths
it returns; any callable works that way here too. The locality filters of
:mod:`extra_catalog.locality` (``lc_ondisk``, ``lc_avail``, ``lc_match``
and ``functools.partial(lc_match, accept=...)``) are answered from the
locality the crawler recorded for each file, so opening a run asks dCache
nothing: only files the catalogue has no answer for (never checked, or
changed since) are passed to the filter itself.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from ..fileaccess.locality import locality_code, report_skipped
from ..index.scan import FileStat

__all__ = ["apply_file_filter", "catalog_accept"]

log = logging.getLogger(__name__)

FileFilter = Callable[[list[str]], Sequence[str]]

# Modification time the crawler stores for a file it will check again (on
# tape, or timed out); see extra_catalog.index.crawler.RETRY_MTIME.
_RETRY_MTIME = -1.0


def catalog_accept(file_filter: FileFilter) -> int | None:
    """The locality mask a filter accepts, if the catalogue can answer it; else None."""
    accept = getattr(file_filter, "catalog_accept", None)
    if isinstance(accept, int):
        return accept
    if isinstance(file_filter, functools.partial) and not file_filter.args:
        inner = getattr(file_filter.func, "catalog_accept", None)
        if isinstance(inner, int):
            value = file_filter.keywords.get("accept", inner)
            return value if isinstance(value, int) else None
    return None


def _recorded(catalog: object, run_dir: Path, chosen: list[FileStat]) -> dict[str, str]:
    """``{name: locality}`` of the chosen files whose recorded facts still fit the file."""
    from ..catalog.locality import load_localities

    try:
        facts = load_localities(catalog, run_dir)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - the catalogue only saves asking dCache
        log.info("locality of %s not taken from the catalogue: %s", run_dir, exc)
        return {}
    found = {}
    for f in chosen:
        fact = facts.get(f.name)
        if fact is None or fact.locality is None or (fact.size, fact.inode) != (f.size, f.inode):
            continue
        if fact.mtime in (f.mtime, _RETRY_MTIME):
            found[f.name] = fact.locality
    return found


def apply_file_filter(file_filter: FileFilter, run_dir: Path, chosen: list[FileStat],
                      catalog: object | None) -> set[str]:
    """Names of the chosen files that *file_filter* keeps.

    Parameters
    ----------
    file_filter : callable
        Takes a list of paths, returns those to keep.
    run_dir : Path
    chosen : list of FileStat
        The run's files selected so far.
    catalog : Catalog or None
        Where recorded localities are looked up for the locality filters.
    """
    accept = catalog_accept(file_filter)
    known = _recorded(catalog, run_dir, chosen) if accept is not None and catalog else {}
    kept: set[str] = set()
    for name, state in known.items():
        if locality_code(state) & accept:  # type: ignore[operator]
            kept.add(name)
        else:
            report_skipped(run_dir / name, state)
    rest = [str(run_dir / f.name) for f in chosen if f.name not in known]
    if rest:
        kept |= {os.path.basename(os.fspath(p)) for p in file_filter(rest)}
    return kept
