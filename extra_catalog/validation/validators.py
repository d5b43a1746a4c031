"""``FileValidator`` and ``RunValidator``: EXtra-data's validation API."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from ..records import ProblemRecord
from .checks import FILE_CHECKS, FileContext, run_file_checks
from .problems import Problem, ValidationError, problem_dict
from .runchecks import RUN_CHECKS, run_run_checks
from .runner import DEFAULT_TIMEOUT, FileOutcome, Progress, TerminalProgress, check_files

__all__ = ["ALL_CHECKS", "FileValidator", "RunValidator", "check_skip_names"]

# EXtra-data's checks, in the order its ``--list`` shows them.
_EXTRA_DATA_CHECKS = ("train_ids_nonzero", "train_ids_order", "index_control",
                      "index_instrument", "control_timestamps_order", "run_json_cache")

#: Every check name ``--skip`` accepts, in the order ``--list`` shows them:
#: EXtra-data's first, then ours.
ALL_CHECKS: tuple[str, ...] = _EXTRA_DATA_CHECKS + tuple(
    name for name in (*FILE_CHECKS, *RUN_CHECKS) if name not in _EXTRA_DATA_CHECKS)


def check_skip_names(skip_checks: Iterable[str]) -> tuple[str, ...]:
    """The names to skip, or ValueError naming the unknown ones."""
    skip = tuple(skip_checks)
    unknown = sorted(set(skip) - set(ALL_CHECKS))
    if unknown:
        raise ValueError(f"Unknown names passed to --skip: {', '.join(unknown)} "
                         f"(known checks: {', '.join(ALL_CHECKS)})")
    return skip


class FileValidator:
    """Check one file.

    Parameters
    ----------
    fa : FileAccess
        The file (``extra_catalog.fileaccess.FileAccess``).
    skip_checks : iterable of str
        Names of checks not to run (see :data:`ALL_CHECKS`).

    Attributes
    ----------
    problems : list of dict
        Filled by :meth:`run_checks`.
    """

    def __init__(self, fa: Any, skip_checks: Iterable[str] = ()) -> None:
        self.file = fa
        self.filename = fa.filename
        self.skip_checks = check_skip_names(skip_checks)
        self.problems: list[Problem] = []

    def run_checks(self) -> list[Problem]:
        """Run the checks; return (and keep in ``problems``) what they found."""
        from ..fileaccess.rawview import RawFileView

        ctx = FileContext(self.file.to_record(), RawFileView(self.filename, self.file.file))
        self.problems = [problem_dict(self.filename, p)
                         for p in run_file_checks(ctx, self.skip_checks)]
        return self.problems

    def validate(self) -> None:
        """Run the checks; raise :class:`ValidationError` if any problem is found."""
        problems = self.run_checks()
        if problems:
            raise ValidationError(problems)


class RunValidator:
    """Check every file of a run directory, and the run as a whole.

    Files are checked in worker processes, each with a deadline: a file that
    hangs (on tape) or crashes libhdf5 is reported, never blocks the run.

    Parameters
    ----------
    run_dir : path
        The run directory.
    term_progress : bool
        Show a progress bar on stderr (when it is a terminal).
    skip_checks : iterable of str
        Names of checks not to run (see :data:`ALL_CHECKS`).
    processes : int, optional
        Worker processes (default: the number of CPUs).
    timeout : float
        Seconds one file may take before it is reported as hanging.
    catalog : Catalog, str, None or False
        Catalogue for the ``run_json_cache`` check: a ``Catalog``
        (``extra_catalog.catalog.open_catalog``), a URL, None for the user's
        catalogue if there is one, False for none. A run not in it is not
        compared.

    Attributes
    ----------
    problems : list of dict
        Filled by :meth:`run_checks`.
    outcomes : list of FileOutcome
        Each file's record (None if unreadable) and problems.
    """

    def __init__(self, run_dir: str | os.PathLike, term_progress: bool = False,
                 skip_checks: Iterable[str] = (), *, processes: int | None = None,
                 timeout: float = DEFAULT_TIMEOUT, catalog: Any = None) -> None:
        self.run_dir = os.path.abspath(run_dir)
        self.term_progress = term_progress
        self.skip_checks = check_skip_names(skip_checks)
        self.processes = processes
        self.timeout = timeout
        self.catalog = catalog
        #: ``progress(done, total, n_problems)`` after each file, or None.
        self.progress: Progress | None = TerminalProgress(None) if term_progress else None
        self.problems: list[Problem] = []
        self.outcomes: list[FileOutcome] = []

    def run_checks(self) -> list[Problem]:
        """Run the checks; return (and keep in ``problems``) what they found."""
        from ..index.scan import list_run_files

        try:
            listed = list_run_files(self.run_dir)
        except OSError as exc:  # not a directory, or not readable
            self.outcomes = []
            self.problems = [{"msg": "No usable files found", "directory": self.run_dir,
                              "error": exc.strerror or str(exc), "check": "run_files"}]
            return self.problems
        paths = [os.path.join(self.run_dir, f.name) for f in listed if f.error is None]
        self.outcomes = check_files(paths, self.skip_checks, processes=self.processes,
                                    timeout=self.timeout, progress=self.progress)
        found: list[tuple[str | None, ProblemRecord]] = [
            (os.path.join(self.run_dir, f.name),
             ProblemRecord("file_access", "Could not access file", details=(("error", f.error),)))
            for f in listed if f.error is not None]
        found += [(o.path, p) for o in self.outcomes for p in o.problems]
        records = [o.record for o in self.outcomes if o.record is not None]
        found += run_run_checks(records, self.skip_checks)
        if "run_json_cache" not in self.skip_checks:
            found += self._catalogue_problems()
        self.problems = [problem_dict(path, p) for path, p in found]
        if not records:
            self.problems.append({"msg": "No usable files found", "directory": self.run_dir,
                                  "check": "run_files"})
        return self.problems

    def _catalogue_problems(self) -> list[tuple[str | None, ProblemRecord]]:
        from .catalogued import cache_problems, catalogued_run, open_default_catalog

        catalog, opened = self.catalog, False
        if catalog is False:
            return []
        if catalog is None or isinstance(catalog, (str, os.PathLike)):
            from ..catalog import open_catalog

            catalog = open_default_catalog() if catalog is None else open_catalog(catalog)
            opened = catalog is not None
        if catalog is None:
            return []
        try:
            run = catalogued_run(catalog, self.run_dir)
            return [] if run is None else cache_problems(self.run_dir, run, self.outcomes)
        finally:
            if opened:
                catalog.close()

    def validate(self) -> None:
        """Run the checks; raise :class:`ValidationError` if any problem is found."""
        problems = self.run_checks()
        if problems:
            raise ValidationError(problems)
