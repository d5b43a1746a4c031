"""Finding run directories in a EuXFEL facility tree.

The layout is ``<root>/<INSTR>/<CYCLE>/p<NNNNNN>/<category>/r<NNNN>/``. A
crawl may start at any level of it: the facility root, an instrument, a
cycle, a proposal, a data category or a single run directory. The walk
only descends where runs can be (it never enters ``usr/`` or ``scratch/``,
which hold users' own files), and never follows a symbolic link that leads
out of the directory being crawled.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["RunLocation", "RUN_CATEGORIES", "find_runs", "parse_run_dir"]

#: Data categories holding runs, in the order EXtra-data's ``open_run`` knows them.
RUN_CATEGORIES = ("raw", "proc", "red")

_INSTR = re.compile(r"^[A-Z][A-Z0-9_]{1,15}$")
_CYCLE = re.compile(r"^\d{6}$")
_PROPOSAL = re.compile(r"^p(\d{6})$")
_RUN = re.compile(r"^r(\d{4,})$")


@dataclass(frozen=True)
class RunLocation:
    """A run directory and what its path says about it.

    Attributes
    ----------
    path : Path
        The run directory, absolute, as reached from the crawled root.
    proposal, run : int or None
        From ``p<NNNNNN>`` and ``r<NNNN>``; None when the path does not
        follow the facility layout.
    category : str or None
        ``raw``, ``proc``... (the parent folder of the run directory).
    instrument, cycle : str or None
        From the two folders above the proposal folder.
    """

    path: Path
    proposal: int | None = None
    run: int | None = None
    category: str | None = None
    instrument: str | None = None
    cycle: str | None = None


def parse_run_dir(path: str | os.PathLike) -> RunLocation:
    """Read proposal, run, category, instrument and cycle from a run directory path."""
    p = Path(os.path.abspath(path))
    parts = p.parts
    loc: dict = {}
    if (m := _RUN.match(parts[-1])) is not None:
        loc["run"] = int(m.group(1))
    if len(parts) >= 3 and (m := _PROPOSAL.match(parts[-3])):
        loc["proposal"] = int(m.group(1))
        loc["category"] = parts[-2]
        if len(parts) >= 5 and _CYCLE.match(parts[-4]) and _INSTR.match(parts[-5]):
            loc["cycle"], loc["instrument"] = parts[-4], parts[-5]
    return RunLocation(path=p, **loc)


@dataclass
class _Walk:
    """State of one walk: the root no link may leave, and what was passed over."""

    root: Path
    categories: Collection[str] | None
    proposals: Collection[int] | None
    skipped_links: list[Path] = field(default_factory=list)

    def subdirs(self, path: Path) -> Iterator[Path]:
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except (PermissionError, FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            if entry.is_symlink() and not self._link_stays_inside(entry.path):
                if entry.is_dir():
                    self.skipped_links.append(Path(entry.path))
                continue
            if entry.is_dir():
                yield Path(entry.path)

    def _link_stays_inside(self, path: str) -> bool:
        target = Path(os.path.realpath(path))
        return target == self.root or self.root in target.parents

    def runs_below(self, path: Path, depth: int) -> Iterator[RunLocation]:
        """Yield run directories below *path*; *depth* guards runaway trees."""
        name = path.name
        if _RUN.match(name) and _PROPOSAL.match(path.parent.parent.name):
            loc = parse_run_dir(path)
            if self._wanted(loc):
                yield loc
            return
        if depth <= 0:
            return
        if (m := _PROPOSAL.match(name)) is not None:
            if self.proposals is not None and int(m.group(1)) not in self.proposals:
                return
            for sub in self.subdirs(path):
                if sub.name in (self.categories or RUN_CATEGORIES):
                    yield from self.runs_below(sub, 1)
            return
        for sub in self.subdirs(path):
            if _RUN.match(sub.name) and not _PROPOSAL.match(path.parent.name):
                continue  # an r0001 folder outside the layout (e.g. in usr/)
            yield from self.runs_below(sub, depth - 1)

    def _wanted(self, loc: RunLocation) -> bool:
        if self.categories is not None and loc.category not in self.categories:
            return False
        return self.proposals is None or loc.proposal in self.proposals


def _has_h5_files(path: Path) -> bool:
    try:
        return any(e.name.endswith(".h5") for e in os.scandir(path))
    except OSError:
        return False


def find_runs(root: str | os.PathLike, *, categories: Collection[str] | None = None,
              proposals: Collection[int] | None = None,
              skipped_links: list[Path] | None = None) -> Iterator[RunLocation]:
    """Yield the run directories at or below *root*, sorted by path.

    Parameters
    ----------
    root : path
        A facility root, instrument, cycle, proposal, category or run
        directory.
    categories : collection of str, optional
        Only runs in these data categories (default: raw, proc and red).
    proposals : collection of int, optional
        Only runs of these proposals.
    skipped_links : list, optional
        If given, symbolic links that lead out of *root* (and were not
        followed) are appended to it.
    """
    root_path = Path(os.path.abspath(root))
    walk = _Walk(Path(os.path.realpath(root_path)), categories, proposals)
    if _has_h5_files(root_path):
        # A run directory, inside the facility layout or not.
        loc = parse_run_dir(root_path)
        if loc.proposal is None or walk._wanted(loc):
            yield loc
        return
    try:
        # facility root -> INSTR -> CYCLE -> pNNNNNN -> category -> rNNNN
        yield from walk.runs_below(root_path, depth=5)
    finally:
        if skipped_links is not None:
            skipped_links.extend(walk.skipped_links)
