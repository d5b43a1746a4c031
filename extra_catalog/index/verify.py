"""Compare the catalogue with the file system, without opening any HDF5 file.

``xfel-index verify`` and the validator's ``run_json_cache`` check use this:
a catalogued file that is missing, a file on disk the catalogue does not
know, a file whose size, modification time or inode changed since it was
read (a run still being written, or a file replaced), catalogued runs whose
directory is gone and run directories that were never catalogued.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..catalog import Catalog, file_stats_below
from .layout import find_runs
from .scan import FileStat, diff_run, list_run_files

__all__ = ["Difference", "DIFFERENCE_KINDS", "diff_catalogued_run", "verify"]

#: Kinds of difference, with what each means.
DIFFERENCE_KINDS = {
    "missing": "catalogued file is missing",
    "extra": "file is not in the catalogue",
    "changed": "file changed since it was catalogued",
    "unreadable": "file cannot be stat'ed",
    "run_missing": "catalogued run directory is missing",
    "run_extra": "run directory is not in the catalogue",
}


@dataclass(frozen=True)
class Difference:
    """One way the catalogue and the file system disagree.

    Attributes
    ----------
    kind : str
        One of :data:`DIFFERENCE_KINDS`.
    run : str
        The run directory.
    file : str or None
        The file name, for file-level differences.
    detail : str
        What exactly differs.
    """

    kind: str
    run: str
    file: str | None
    detail: str

    @property
    def path(self) -> str:
        """The file's path, or the run directory's."""
        return self.run if self.file is None else os.path.join(self.run, self.file)


def _changed_detail(stored: tuple[int, float, int], now: FileStat) -> str:
    size, mtime, inode = stored
    parts = []
    if size != now.size:
        parts.append(f"size {size} -> {now.size}")
    if mtime != now.mtime:
        parts.append("recorded as hanging, to be read again" if mtime < 0
                     else f"mtime {mtime:.6f} -> {now.mtime:.6f}")
    if inode != now.inode:
        parts.append(f"inode {inode} -> {now.inode} (file replaced)")
    return f"{DIFFERENCE_KINDS['changed']} ({', '.join(parts)})"


def diff_catalogued_run(run_dir: str | os.PathLike,
                        stored: Mapping[str, tuple[int, float, int]]) -> list[Difference]:
    """How one catalogued run's directory differs from its catalogue entry.

    Parameters
    ----------
    run_dir : path
        The run directory.
    stored : mapping
        ``{file name: (size, mtime, inode)}`` as catalogued.
    """
    run = os.fspath(run_dir)
    if not os.path.isdir(run):
        return [Difference("run_missing", run, None, DIFFERENCE_KINDS["run_missing"])]
    files = list_run_files(run)
    diff = diff_run(files, stored)
    out = [Difference("extra", run, f.name, DIFFERENCE_KINDS["extra"]) for f in diff.new]
    out += [Difference("changed", run, f.name, _changed_detail(tuple(stored[f.name]), f))
            for f in diff.changed]
    out += [Difference("missing", run, name, DIFFERENCE_KINDS["missing"])
            for name in diff.removed]
    out += [Difference("unreadable", run, f.name, f"{DIFFERENCE_KINDS['unreadable']}: {f.error}")
            for f in diff.broken]
    return sorted(out, key=lambda d: (d.file or "", d.kind))


def verify(catalog: Catalog, roots: Iterable[str | os.PathLike] | None = None) -> list[Difference]:
    """Compare the catalogue with the file system.

    Parameters
    ----------
    catalog : Catalog
        An open catalogue (``extra_catalog.catalog.open_catalog``).
    roots : iterable of path, optional
        Facility, proposal or run directories: their catalogued runs are
        compared, and run directories below them that are not catalogued are
        reported. None compares every catalogued run (and reports no
        uncatalogued directories, since there is no tree to walk).

    Returns
    -------
    list of Difference
        Sorted by run and file; empty when everything agrees.
    """
    found: list[Difference] = []
    if roots is None:
        for run, stored in sorted(file_stats_below(catalog, os.sep).items()):
            found += diff_catalogued_run(run, stored)
        return found
    for root in roots:
        root = os.path.abspath(root)
        catalogued = file_stats_below(catalog, root)
        if os.path.isdir(root):
            for loc in find_runs(root):
                if str(loc.path) not in catalogued:
                    found.append(Difference("run_extra", str(loc.path), None,
                                            DIFFERENCE_KINDS["run_extra"]))
        for run, stored in sorted(catalogued.items()):
            found += diff_catalogued_run(Path(run), stored)
    return sorted(set(found), key=lambda d: (d.run, d.file or "", d.kind))
