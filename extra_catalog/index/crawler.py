"""Crawling: bring the catalogue up to date with directories of runs.

For each run directory found below the roots, the files are listed and
stat'ed and compared with the catalogue (:mod:`.scan`). Only new or changed
files are read, in worker processes with a per-file deadline
(:mod:`.pool`), and each run is written in one transaction as soon as its
last file is read, so an interrupted crawl leaves every run either as it
was or fully updated. Runs that changed in the last ``settle`` seconds are
left for the next crawl; runs and files that disappeared are removed.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..catalog import (
    Catalog,
    RunInfo,
    RunProblem,
    UnreadableFile,
    file_stats_below,
    load_run,
    mark_crawled_many,
    remove_files,
    remove_run,
    replace_run,
    replace_run_problems,
    update_files,
)
from ..catalog.locality import record_localities
from ..catalog.outlines import build_missing_outlines
from ..catalog.statistics import refresh_statistics
from ..exceptions import CatalogConnectionError, CatalogLockedError, ExtraCatalogError
from ..records import FileRecord, ProblemRecord
from .aliases import proposal_dir, record_aliases
from .extract import read_file
from .layout import RunLocation, find_runs, parse_run_dir
from .locality import TIMEOUT_STATE, CheckedFile, read_checked
from .pool import DeadlinePool, TaskResult
from .recheck import recheck_localities
from .scan import RunDiff, diff_run, is_settled, list_run_files
from .summary import CrawlSummary
from .trains import train_range

__all__ = ["CrawlError", "CrawlOptions", "crawl", "DEFAULT_SETTLE", "DEFAULT_TIMEOUT"]

#: Seconds a run must have been left untouched before it is read.
DEFAULT_SETTLE = 300.0
#: Seconds one file may take to read before it is recorded as hanging.
DEFAULT_TIMEOUT = 60.0

#: Modification time stored for a file whose read timed out, so it is retried.
RETRY_MTIME = -1.0

Progress = Callable[[int, int], None]


class CrawlError(ExtraCatalogError):
    """The crawl could not start (e.g. a root that is not a directory)."""


@dataclass(frozen=True)
class CrawlOptions:
    """How to crawl.

    Attributes
    ----------
    processes : int or None
        Worker processes reading files (default: the number of CPUs).
    timeout : float
        Seconds one file may take before it is recorded as hanging.
    settle : float
        Runs with a file modified less than this many seconds ago are left
        for the next crawl (0 reads everything now).
    categories : collection of str or None
        Only these data categories (``raw``, ``proc``...).
    proposals : collection of int or None
        Only these proposals.
    check_locality : bool
        Also ask dCache again where the unchanged files on it are stored
        (see :mod:`extra_catalog.index.recheck`); new and changed files are
        always checked.
    """

    processes: int | None = None
    timeout: float = DEFAULT_TIMEOUT
    settle: float = DEFAULT_SETTLE
    categories: Collection[str] | None = None
    proposals: Collection[int] | None = None
    check_locality: bool = False


@dataclass
class _RunPlan:
    """One run that needs writing, and the files read for it so far."""

    loc: RunLocation
    diff: RunDiff
    is_new: bool
    results: dict[str, FileRecord | UnreadableFile] = field(default_factory=dict)
    #: File name -> dCache locality found when it was read (None: not known).
    localities: dict[str, str | None] = field(default_factory=dict)

    def done(self) -> bool:
        return len(self.results) == len(self.diff.to_read())


def crawl(catalog: Catalog, roots: Sequence[str | os.PathLike],
          options: CrawlOptions = CrawlOptions(), *,
          progress: Progress | None = None) -> CrawlSummary:
    """Update the catalogue with the runs at or below *roots*.

    Parameters
    ----------
    catalog : Catalog
        An open catalogue (see :func:`extra_catalog.catalog.open_catalog`).
    roots : sequence of path
        Facility roots, instrument, cycle, proposal, category or run directories.
    options : CrawlOptions
    progress : callable, optional
        Called as ``progress(files_done, files_to_read)`` after each file read.

    Returns
    -------
    CrawlSummary
        Counts of runs and files new / changed / removed / unchanged /
        failed, problems found, and the time taken.

    Raises
    ------
    CrawlError
        A root is not a directory.
    """
    t0 = time.monotonic()
    started = datetime.now(timezone.utc)
    roots = [Path(os.path.abspath(r)) for r in roots]
    for root in roots:
        if not root.is_dir():
            raise CrawlError(f"{root}: not a directory; give a facility, proposal or run directory")
    summary = CrawlSummary()
    plans: list[_RunPlan] = []
    touched: dict[int, tuple[str, str]] = {}
    proposal_dirs: dict[int, Path] = {}
    for root in roots:
        stored = file_stats_below(catalog, root)
        links: list[Path] = []
        for loc in find_runs(root, categories=options.categories,
                             proposals=options.proposals, skipped_links=links):
            plan = _plan_run(catalog, loc, stored.pop(str(loc.path), {}),
                             os.path.realpath(root), options.settle, summary)
            if plan is not None:
                plans.append(plan)
            if loc.proposal is not None:
                touched[loc.proposal] = (loc.instrument or "", loc.cycle or "")
                directory = proposal_dir(loc)
                if directory is not None:
                    proposal_dirs[loc.proposal] = directory
        summary.skipped_links += [str(p) for p in links]
        _remove_vanished(catalog, stored, options, summary)
    _read_and_commit(catalog, plans, options, summary, progress)
    # Runs catalogued by older code get the outline open_run reads.
    build_missing_outlines(catalog)
    if summary.runs_new or summary.runs_changed or summary.runs_removed:
        # SQLite plans cross-run queries badly without them (catalog.statistics).
        refresh_statistics(catalog)
    if options.check_locality:
        recheck_localities(catalog, roots, options, started, summary)
    if touched:
        mark_crawled_many(catalog, touched)
        summary.problems += record_aliases(catalog, proposal_dirs)
    summary.seconds = time.monotonic() - t0
    return summary


def _plan_run(catalog: Catalog, loc: RunLocation, stored: dict[str, tuple[int, float, int]],
              real_root: str, settle: float, summary: CrawlSummary) -> _RunPlan | None:
    """Compare one run with the catalogue; return a plan if it needs writing."""
    files = list_run_files(loc.path, root=real_root)
    diff = diff_run(files, stored)
    summary.files_unchanged += len(diff.unchanged)
    if diff.up_to_date:
        summary.runs_unchanged += 1
        return None
    if not is_settled(files, settle):
        summary.runs_deferred += 1
        return None
    if not files:
        remove_run(catalog, str(loc.path))
        summary.runs_removed += 1
        summary.files_removed += len(stored)
        return None
    return _RunPlan(loc, diff, is_new=not stored)


def _remove_vanished(catalog: Catalog, not_found: dict[str, dict[str, tuple[int, float, int]]],
                     options: CrawlOptions, summary: CrawlSummary) -> None:
    """Remove catalogued runs below a root that the walk did not find and that are gone."""
    for path, files in sorted(not_found.items()):
        if os.path.isdir(path):
            continue  # still there, just not reached (filtered out, or behind a link)
        if options.categories is not None or options.proposals is not None:
            loc = parse_run_dir(path)
            if options.categories is not None and loc.category not in options.categories:
                continue
            if options.proposals is not None and loc.proposal not in options.proposals:
                continue
        remove_run(catalog, path)
        summary.runs_removed += 1
        summary.files_removed += len(files)


def _read_and_commit(catalog: Catalog, plans: list[_RunPlan], options: CrawlOptions,
                     summary: CrawlSummary, progress: Progress | None) -> None:
    """Read the files the plans need, writing each run when its files are done."""
    owner: dict[str, _RunPlan] = {}
    for plan in plans:
        for f in plan.diff.to_read():
            owner[str(plan.loc.path / f.name)] = plan
    for plan in plans:
        if plan.done():  # nothing to read: only removals or broken links
            _commit(catalog, plan, summary)
    if not owner:
        return
    processes = max(1, min(options.processes or os.cpu_count() or 1, len(owner)))
    done = 0
    with DeadlinePool(_read_in_worker, processes=processes, timeout=options.timeout) as pool:
        for result in pool.map_unordered(list(owner)):
            plan = owner[result.item]
            name = os.path.basename(result.item)
            plan.results[name], plan.localities[name] = _outcome(plan, result, options.timeout)
            done += 1
            if progress is not None:
                progress(done, len(owner))
            if plan.done():
                _commit(catalog, plan, summary)


def _read_in_worker(path: str) -> CheckedFile:
    """Ask dCache where the file is, then read it if it is on disk (in a worker).

    ``read_file`` is looked up when called, so a replaced reader (tests,
    tools) is the one the workers use.
    """
    return read_checked(path, read_file)


def _outcome(plan: _RunPlan, result: TaskResult,
             timeout: float) -> tuple[FileRecord | UnreadableFile, str | None]:
    """Turn a worker's result into what the catalogue stores for the file, and its locality."""
    value, locality, retry = result.value, None, bool(result.timed_out)
    if isinstance(value, CheckedFile):
        value, locality, retry = value.result, value.locality, value.left_unread
    elif result.timed_out:
        locality = TIMEOUT_STATE
    if isinstance(value, FileRecord):
        return value, locality
    if isinstance(value, ProblemRecord):
        problem = value
    elif result.timed_out:
        problem = ProblemRecord("timeout", f"{result.item}: reading did not finish within "
                                f"{timeout:g} s (file on tape, or a hanging file system?)")
    elif "worker process died" in str(result.error):
        # libhdf5 itself can crash on a damaged file; the worker took the blow.
        problem = ProblemRecord("unreadable", f"{result.item}: {result.error} (reading it "
                                "crashed the HDF5 library: the file is probably damaged)")
    else:
        problem = ProblemRecord("unreadable", f"{result.item}: {result.error}")
    stat = next(f for f in plan.diff.to_read() if f.name == os.path.basename(result.item))
    # A file that timed out, or was left unread because it is on tape, may be
    # readable later (staged, or dCache back): an impossible mtime makes the
    # next crawl see it as changed and check it again.
    mtime = RETRY_MTIME if retry else stat.mtime
    return UnreadableFile(result.item, stat.size, mtime, stat.inode, problem), locality


def _broken_files(plan: _RunPlan) -> list[UnreadableFile]:
    return [UnreadableFile(str(plan.loc.path / f.name), 0, 0.0, 0,
                           ProblemRecord("unreadable", f"{plan.loc.path / f.name}: {f.error}"))
            for f in plan.diff.broken]


def _commit(catalog: Catalog, plan: _RunPlan, summary: CrawlSummary) -> None:
    """Write one run, or record why it could not be written; the crawl goes on."""
    try:
        _write_run(catalog, plan, summary)
    except ExtraCatalogError as exc:
        if isinstance(exc, (CatalogConnectionError, CatalogLockedError)):
            raise  # the catalogue itself is unusable: stop the crawl
        summary.runs_failed += 1
        summary.problems.append(f"{plan.loc.path}: not written to the catalogue: {exc}")
    except Exception as exc:  # noqa: BLE001 - one run must not stop the crawl of the others
        summary.runs_failed += 1
        summary.problems.append(f"{plan.loc.path}: not written to the catalogue "
                                f"({type(exc).__name__}): {exc}")


def _write_run(catalog: Catalog, plan: _RunPlan, summary: CrawlSummary) -> None:
    """Write one run's new, changed, broken and removed files in one transaction."""
    written = list(plan.results.values()) + _broken_files(plan)
    scanned = {f.name: f.key() for f in plan.diff.to_read()}
    changed = [r.path for r in written if isinstance(r, FileRecord)
               and (r.size, r.mtime, r.inode) != scanned.get(os.path.basename(r.path))]
    names = {os.path.basename(r.path) for r in written} | set(plan.diff.removed)
    with catalog.session_scope(write=True) as session:
        kept = [] if plan.is_new else [
            r for r in load_run(session, str(plan.loc.path)).files
            if os.path.basename(r.path) not in names]
        info = run_info(plan.loc, kept + [r for r in written if isinstance(r, FileRecord)],
                         written)
        if plan.is_new:
            # Also replaces the run if it was catalogued under another path
            # (a proposal directory that moved): runs are unique by number.
            replace_run(session, info, written, changed=changed)
        else:
            update_files(session, info, written, changed=changed)
        if plan.diff.removed:
            remove_files(session, info, plan.diff.removed)
        record_localities(session, info.path, plan.localities)
        readable = kept + [r for r in written if isinstance(r, FileRecord)]
        run_problems = _run_problems(readable)
        replace_run_problems(session, info.path, run_problems)
    summary.add_run(plan.is_new, plan.diff, written)
    summary.problems += [f"{rp.path or info.path}: {rp.problem.message}" for rp in run_problems]


def _run_problems(records: list[FileRecord]) -> list[RunProblem]:
    """The validator's checks across the run's files (overlapping sequences...)."""
    from ..validation.runchecks import run_run_checks

    return [RunProblem(problem, path) for path, problem in run_run_checks(records)]


def run_info(loc: RunLocation, records: list[FileRecord],
              written: Sequence[FileRecord | UnreadableFile]) -> RunInfo:
    """The run's facts: identity from its path (or METADATA), trains from its files."""
    meta = dict(records[0].metadata) if records else {}
    proposal = loc.proposal if loc.proposal is not None else int(meta.get("proposalNumber") or 0)
    run = loc.run if loc.run is not None else int(meta.get("runNumber") or 0)
    category = loc.category or _category_from_names([os.path.basename(w.path) for w in written])
    info = RunInfo.from_files(instrument=loc.instrument or "", cycle=loc.cycle or "",
                              proposal=proposal, run=run, data_category=category,
                              path=str(loc.path), files=records)
    first, last, n_trains = train_range(records)
    # Suspect somewhere and good nowhere: what inc_suspect_trains=True adds.
    import numpy as np

    from ..fileaccess.codec import decode_array

    ids = [decode_array(r.train_ids).astype(np.uint64) for r in records]
    good = [decode_array(r.validity).astype(bool) for r in records]
    n_suspect = 0
    if ids:
        all_ids, all_good = np.concatenate(ids), np.concatenate(good)
        n_suspect = int(np.setdiff1d(all_ids[~all_good], all_ids[all_good]).size)
    return dataclasses.replace(info, first_train=first, last_train=last, n_trains=n_trains,
                               n_suspect_trains=n_suspect)


def _category_from_names(names: list[str]) -> str:
    return "proc" if names and all(n.startswith("CORR-") for n in names) else "raw"
