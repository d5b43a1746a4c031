"""Which proposals a user may see: those whose directory they can read.

A shared catalogue must not reveal other proposals' sources, samples or
values, so queries only cover proposals whose directory the user can list
(read and execute permission), checked on the file system the first time a
proposal is met and then cached for the life of the :class:`Visibility`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import PurePath

__all__ = ["proposal_directory", "can_read_directory", "Visibility"]

_PROPOSAL_DIR = re.compile(r"^p\d+$")


@lru_cache(maxsize=65536)
def proposal_directory(run_path: str) -> str:
    """The proposal directory holding a run directory.

    The nearest parent named like ``p900001`` (``.../p900001/raw/r0001`` and
    the archive layout ``.../raw/SPB/202601/p900001/r0001``); the
    grandparent when no parent is named so. Answers are cached: every
    query with visibility checks asks for the first and last run directory
    of every proposal.
    """
    path = PurePath(run_path)
    for parent in path.parents:
        if _PROPOSAL_DIR.match(parent.name):
            return str(parent)
    return str(path.parent.parent)


def can_read_directory(path: str) -> bool:
    """Whether this process may list *path* (read and search permission)."""
    return os.access(path, os.R_OK | os.X_OK)


class Visibility:
    """The proposals a user may see, from their directories, cached.

    Parameters
    ----------
    can_read : callable, optional
        ``can_read(directory) -> bool``; default :func:`can_read_directory`.
        Tests and services acting for another user inject their own.
    """

    def __init__(self, can_read: Callable[[str], bool] | None = None):
        self._can_read = can_read or can_read_directory
        self._cache: dict[str, bool] = {}

    def readable(self, directory: str) -> bool:
        """Whether *directory* may be read (asked once per directory)."""
        if directory not in self._cache:
            self._cache[directory] = bool(self._can_read(directory))
        return self._cache[directory]

    def visible_proposals(self, run_paths: Iterable[tuple[int, str]]) -> set[int]:
        """Proposal numbers all of whose given run paths lie in readable directories.

        Parameters
        ----------
        run_paths : iterable of (int, str)
            (proposal number, run directory) pairs.
        """
        verdict: dict[int, bool] = {}
        for number, path in run_paths:
            seen = self.readable(proposal_directory(path))
            verdict[number] = verdict.get(number, True) and seen
        return {number for number, ok in verdict.items() if ok}

    def forget(self) -> None:
        """Check every directory again on the next query (e.g. after a permission change)."""
        self._cache.clear()
