"""Options and error handling shared by the ``xfel-index`` subcommands."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

catalog_option = click.option(
    "--catalog", "catalog", metavar="URL", default=None,
    help="Catalogue URL or SQLite file [default: $EXTRA_CATALOG_URL, else "
         "$XDG_DATA_HOME/extra_catalog/catalog.sqlite].")


class CommandInputError(click.ClickException):
    """A problem with the command's input, reported in one line (exit status 2)."""

    exit_code = 2


def catalog_errors(func: F) -> F:
    """Report extra_catalog errors as one line naming the fix, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..exceptions import ExtraCatalogError

        try:
            return func(*args, **kwargs)
        except ExtraCatalogError as exc:
            raise CommandInputError(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def open_or_create_catalog(url: str | None):  # type: ignore[no-untyped-def]
    """Open the catalogue, creating it first if it is an SQLite file not made yet.

    A PostgreSQL catalogue must be created explicitly (``xfel-index init``),
    since that is an administrator's decision.
    """
    from ..catalog import init_catalog, open_catalog, resolve_url
    from ..catalog.engine import sqlite_file

    resolved = resolve_url(url)
    path = sqlite_file(resolved)
    if path is not None and not path.exists():
        init_catalog(resolved)
    return open_catalog(resolved)


#: Filters on runs, shared by ``xfel-index query`` and ``xfel-index serve``
#: (each becomes a keyword of ``Catalog.runs``; see :func:`run_filter_arguments`).
_RUN_FILTERS = [
    click.option("--proposal", "-p", multiple=True, type=int,
                 help="Proposal number (repeatable)."),
    click.option("--run", "-r", multiple=True, type=int, help="Run number (repeatable)."),
    click.option("--runs", "run_range", metavar="FIRST-LAST",
                 help="Inclusive run range; either end may be left out (10-, -20)."),
    click.option("--instrument", multiple=True, help="Instrument, e.g. SPB (repeatable)."),
    click.option("--cycle", multiple=True, help="Proposal cycle, e.g. 202601 (repeatable)."),
    click.option("--data", "data_category", multiple=True, help="Data category: raw, proc..."),
    click.option("--from", "date_from", metavar="DATE", help="Runs created on or after (ISO)."),
    click.option("--to", "date_to", metavar="DATE", help="Runs created on or before (ISO)."),
    click.option("--sample", metavar="GLOB", help="Sample name (glob)."),
    click.option("--run-type", metavar="GLOB", help="Run type (glob)."),
    click.option("--source", metavar="GLOB", help="Runs with a source matching this glob."),
    click.option("--key", metavar="GLOB", help="... having a key matching this glob."),
    click.option("--run-value", "run_values", multiple=True, metavar="'SRC KEY OP VALUE'",
                 help="Condition on a RUN value, e.g. 'SPB_IRU_MOTORS/MOTOR/X actualPosition "
                      ">= 3.5' (repeatable)."),
    click.option("--min-trains", type=int, help="At least this many good trains."),
    click.option("--max-trains", type=int, help="At most this many good trains."),
    click.option("--train", type=int, help="Runs spanning this train ID."),
    click.option("--problems/--no-problems", "has_problems", default=None,
                 help="Only runs with (without) recorded problems."),
    click.option("--has-suspect-trains/--no-suspect-trains", "has_suspect_trains",
                 default=None,
                 help="Only runs with (without) suspect trains: flagged suspect in their "
                      "files and good in none."),
    click.option("--on-disk/--not-on-disk", "on_disk", default=None,
                 help="Only runs whose files can all (cannot all) be read now: readable and "
                      "on disk, not only on tape, when the crawler last checked them."),
]


def run_filter_options(func: F) -> F:
    """The run filters of ``xfel-index query`` (``--proposal``, ``--source``...)."""
    for option in reversed(_RUN_FILTERS):
        func = option(func)
    return func


def run_filter_arguments(filters: dict[str, Any], run_range: str | None) -> dict[str, Any]:
    """``Catalog.runs`` keywords from the values of :func:`run_filter_options`."""
    arguments = {k: (list(v) or None) if isinstance(v, tuple) else v
                 for k, v in filters.items()}
    arguments["run_values"] = arguments["run_values"] or ()
    if run_range is not None:
        arguments["run_range"] = _parse_run_range(run_range)
    return arguments


def _parse_run_range(text: str) -> tuple[int | None, int | None]:
    first, sep, last = text.partition("-")
    try:
        if not sep:
            raise ValueError
        return (int(first) if first.strip() else None, int(last) if last.strip() else None)
    except ValueError:
        raise CommandInputError(f"--runs {text!r}: give FIRST-LAST, e.g. 10-20, 10- or -20") \
            from None
