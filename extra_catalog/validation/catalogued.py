"""What the catalogue knows about a run, for the validator.

EXtra-data's ``run_json_cache`` check compares its JSON map of a run with the
files. Here the catalogue is that map, so the check of the same name
compares the catalogue's entry with the run directory: files added, removed
or changed since the run was catalogued (a run still being written), and an
entry whose train IDs or sources disagree with an unchanged file.

An unchanged catalogued run can also be answered from the catalogue: the
crawler ran the same checks when it read the files and stored the problems.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import numpy as np

from ..catalog import Catalog, RunRecord, load_run, open_catalog, resolve_url
from ..catalog.engine import sqlite_file
from ..exceptions import ExtraCatalogError
from ..fileaccess.codec import decode_array
from ..index.verify import diff_catalogued_run
from ..records import FileRecord, ProblemRecord
from .problems import Problem, problem_dict
from .runner import ACCESS_MSG, OPEN_MSG, FileOutcome

__all__ = ["CHECK", "open_default_catalog", "catalogued_run", "stored_stats", "cache_problems",
           "stored_problems", "is_unchanged"]

#: The check's name, EXtra-data's, so ``--skip run_json_cache`` keeps working.
CHECK = "run_json_cache"

_MESSAGES = {
    "extra": "File is not in the catalogue (run still being written?)",
    "missing": "Catalogued file is missing",
    "changed": "File changed since it was catalogued (run still being written?)",
    "unreadable": "Could not access file",
    "run_missing": "Catalogued run directory is missing",
}


def open_default_catalog() -> Catalog | None:
    """The user's catalogue if there is one (``$EXTRA_CATALOG_URL`` or the per-user file)."""
    url = resolve_url(None)
    path = sqlite_file(url)
    if path is not None and not path.exists():
        return None
    try:
        return open_catalog(url)
    except ExtraCatalogError:
        return None  # an unusable catalogue just means nothing to compare with


def catalogued_run(catalog: Catalog, run_dir: str) -> RunRecord | None:
    """The catalogue's record of the run in *run_dir*, None if it is not catalogued."""
    try:
        return load_run(catalog, os.path.abspath(run_dir))
    except ExtraCatalogError:
        return None


def stored_stats(run: RunRecord) -> dict[str, tuple[int, float, int]]:
    """``{file name: (size, mtime, inode)}`` as catalogued."""
    stats = {os.path.basename(f.path): (f.size, f.mtime, f.inode) for f in run.files}
    stats.update({u.name: (u.size, u.mtime, u.inode) for u in run.unreadable})
    return stats


def is_unchanged(run_dir: str, run: RunRecord) -> bool:
    """Whether every file of the run is as catalogued (nothing to read again)."""
    return not run.changed and not diff_catalogued_run(run_dir, stored_stats(run))


def cache_problems(run_dir: str, run: RunRecord,
                   outcomes: Sequence[FileOutcome]) -> list[tuple[str | None, ProblemRecord]]:
    """The ``run_json_cache`` check: the catalogue's entry against the files."""
    found: list[tuple[str | None, ProblemRecord]] = []
    hanging = {u.name for u in run.unreadable if u.mtime < 0}  # reported by its own check
    diffs = diff_catalogued_run(run_dir, stored_stats(run))
    for diff in diffs:
        if diff.file in hanging:
            continue
        found.append((diff.path, ProblemRecord(CHECK, _MESSAGES[diff.kind],
                                               details=(("reason", diff.detail),))))
    changed = {d.file for d in diffs}
    fresh = {os.path.basename(o.path): o.record for o in outcomes if o.record is not None}
    for stored in run.files:
        name = os.path.basename(stored.path)
        if name in changed or name not in fresh:
            continue
        reason = _record_difference(stored, fresh[name])  # type: ignore[arg-type]
        if reason is not None:
            found.append((stored.path, ProblemRecord(CHECK, "Incorrect data map cache entry",
                                                     details=(("reason", reason),))))
    return found


def _record_difference(stored: FileRecord, fresh: FileRecord) -> str | None:
    """What differs between the catalogue's record of an unchanged file and the file."""
    if not np.array_equal(decode_array(stored.train_ids), decode_array(fresh.train_ids)):
        return "train IDs differ"
    old = {s.name: s for s in stored.sources}
    new = {s.name: s for s in fresh.sources}
    if set(old) != set(new):
        added, lost = sorted(set(new) - set(old)), sorted(set(old) - set(new))
        return f"sources differ (in the file only: {added}, in the catalogue only: {lost})"
    for name in sorted(old):
        if {(k.name, k.length) for k in old[name].keys} != \
                {(k.name, k.length) for k in new[name].keys}:
            return f"keys or their lengths of source {name!r} differ"
    return None


def stored_problems(run: RunRecord, skip: Iterable[str] = ()) -> list[Problem]:
    """The problems the crawler stored for the run, as the validator reports them."""
    skipped = set(skip)
    found: list[tuple[str, Problem]] = []
    for rec in run.files:
        found += [(rec.path, problem_dict(rec.path, p)) for p in rec.problems
                  if p.check not in skipped]
    for u in run.unreadable:
        found.append((u.path, problem_dict(u.path, _as_unreadable(u.path, u.problem))))
    for rp in run.problems:
        if rp.problem.check not in skipped:
            found.append((rp.path or "", problem_dict(rp.path, rp.problem)))
    return [p for _, p in sorted(found, key=lambda item: item[0])]


def _as_unreadable(path: str, problem: ProblemRecord) -> ProblemRecord:
    """The crawler's reason a file could not be read, in the validator's words."""
    if problem.check in ("file_access", "file_open"):
        return problem
    message = ACCESS_MSG if problem.check == "timeout" else OPEN_MSG
    error = problem.message.removeprefix(path + ": ")
    return ProblemRecord("file_access" if message == ACCESS_MSG else "file_open", message,
                         details=(("error", error),))
