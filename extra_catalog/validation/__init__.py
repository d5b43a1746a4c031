"""Validation of EuXFEL files and runs: EXtra-data's ``extra_data.validation``.

:class:`FileValidator` checks one file, :class:`RunValidator` a run
directory (files in parallel, each with a deadline); both raise
:class:`ValidationError` from ``validate()``, whose ``problems`` are dicts
with ``msg``, ``file``, ``dataset``... The checks are small registered
functions (:mod:`.checks` for one file, :mod:`.runchecks` across a run's
files, :mod:`.catalogued` against the catalogue); the crawler runs the same
ones while it reads a file, so the catalogue's ``problems`` hold the
validator's findings. ``extra-data-validate`` is the command line.
"""

from .checks import FILE_CHECKS
from .problems import ValidationError
from .runchecks import RUN_CHECKS
from .validators import ALL_CHECKS, FileValidator, RunValidator

__all__ = ["FileValidator", "RunValidator", "ValidationError", "ALL_CHECKS", "FILE_CHECKS",
           "RUN_CHECKS", "main"]


def main(argv: list[str] | None = None) -> int | None:
    """Run ``extra-data-validate`` with *argv*, as ``extra_data.validation.main``.

    Returns 1 when problems were found (or a ``--skip`` name is unknown),
    None when there were none, without exiting.
    """
    # The command line lives in extra_catalog.cli; imported here only when
    # called, for code written against EXtra-data's module.
    from ..cli.validate import run

    return run(argv) or None
