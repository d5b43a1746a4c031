"""``xfel-index problems``: the problems the crawler recorded, across runs.

Exit status: 0 no problems match, 1 problems were found, 2 bad input, as
for the other ``xfel-index`` commands that look for trouble.
"""

from __future__ import annotations

import fnmatch
import sys
from typing import Any

import click

from ._options import catalog_errors, catalog_option, run_filter_arguments, run_filter_options
from .query import _emit, _open, _output_options, _plain

#: Columns shown, from the ``problems`` view.
COLUMNS = ("proposal", "run", "data_category", "file", "check_name", "message", "source",
           "dataset", "train_id")


@click.command()
@catalog_option
@click.option("--check", "checks", multiple=True, metavar="GLOB",
              help="Only problems of checks matching this glob, e.g. 'index_*' (repeatable; "
                   "see extra-data-validate --list).")
@click.option("--summary", is_flag=True,
              help="One row per run and check, with the number of problems.")
@run_filter_options
@_output_options
@catalog_errors
def problems(catalog: str | None, checks: tuple[str, ...], summary: bool, fmt: str | None,
             admin: bool, timeout: float | None, run_range: str | None,
             **filters: Any) -> None:
    """List the problems recorded for the runs matching the filters.

    The crawler runs extra-data-validate's checks on every file it reads, so
    this answers at once which runs have a bad INDEX, overlapping sequence
    files or unreadable files. Filters as for ``xfel-index query``.

    \b
    Examples:
        xfel-index problems -p 900001                     # everything wrong in a proposal
        xfel-index problems --check 'index_*' --summary   # which runs have a bad INDEX
        xfel-index problems --check unreadable --check timeout --json

    Exit status 0 when no problem matches, 1 when some do, 2 for bad input.
    """
    from ..query import Catalog

    arguments = run_filter_arguments(filters, run_range)
    with _open(Catalog, catalog, admin, timeout) as cat:
        frame = cat.problems(**arguments)
    if not len(frame):
        import pandas as pd

        frame = pd.DataFrame({name: [] for name in COLUMNS})  # no rows may mean no columns
    if checks:
        keep = [any(fnmatch.fnmatchcase(str(name), glob) for glob in checks)
                for name in frame["check_name"]]
        frame = frame.loc[keep]  # a list of booleans picks rows (an empty one too)
    if summary:
        frame = (frame.groupby(["proposal", "run", "data_category", "check_name"], sort=True)
                 .size().reset_index(name="n_problems"))
    else:
        frame = frame[list(COLUMNS)].copy()
        # A column with missing values comes back as float: show IDs as integers.
        frame["train_id"] = [None if _plain(v) is None else int(v) for v in frame["train_id"]]
    _emit(frame, fmt, "no problems recorded for the matching runs")
    sys.exit(1 if len(frame) else 0)
