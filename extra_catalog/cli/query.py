"""``xfel-index query`` and ``xfel-index sql``: questions across runs.

Exit status: 0 when there are results, 1 when there are none, 2 for a bad
query (the message points at the mistake).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ._options import (CommandInputError, catalog_errors, catalog_option, run_filter_arguments,
                       run_filter_options)

F = TypeVar("F", bound=Callable[..., Any])


def _output_options(func: F) -> F:
    """--csv / --json / --admin / --timeout, shared by both commands."""
    for option in reversed([
        click.option("--csv", "fmt", flag_value="csv", help="Write CSV instead of a table."),
        click.option("--json", "fmt", flag_value="json",
                     help="Write a JSON list of objects instead of a table."),
        click.option("--admin", is_flag=True,
                     help="See every proposal, not only those whose directory you can read."),
        click.option("--timeout", type=float, default=None, metavar="SECONDS",
                     help="Stop a query running longer than this [default: 60]."),
    ]):
        func = option(func)
    return func


@click.command()
@catalog_option
@run_filter_options
@_output_options
@catalog_errors
def query(catalog: str | None, fmt: str | None, admin: bool, timeout: float | None,
          run_range: str | None, **filters: Any) -> None:
    """List the runs matching every given filter.

    \b
    Examples:
        xfel-index query --source 'SPB_DET_AGIPD1M-1/*' --min-trains 100
        xfel-index query -p 900001 --run-value 'SPB_IRU_MOTORS/MOTOR/X actualPosition >= 3.5'
        xfel-index query --sample 'Lys*' --problems --json
        xfel-index query -p 900001 --on-disk

    Exit status 0 with results, 1 with none, 2 for a bad query.
    """
    from ..query import Catalog

    arguments = run_filter_arguments(filters, run_range)
    with _open(Catalog, catalog, admin, timeout) as cat:
        frame = cat.runs(**arguments)
    _emit(frame, fmt)
    if frame.empty:
        sys.exit(1)


@click.command()
@catalog_option
@click.argument("statement")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Value of a :NAME placeholder (numbers are passed as numbers).")
@_output_options
@catalog_errors
def sql(catalog: str | None, statement: str, params: tuple[str, ...], fmt: str | None,
        admin: bool, timeout: float | None) -> None:
    """Run one read-only SQL query over the views.

    Views: runs, sources, keys, files, run_values, problems (see the
    documentation, page "Queries across runs").

    \b
    Examples:
        xfel-index sql "SELECT proposal, run, n_trains FROM runs WHERE n_trains > 1000"
        xfel-index sql "SELECT DISTINCT proposal, run FROM keys WHERE key = :k" \\
            --param k=image.data --csv

    Exit status 0 with results, 1 with none, 2 for a bad or refused query.
    """
    from ..query import Catalog

    values = dict(_parse_param(p) for p in params)
    with _open(Catalog, catalog, admin, timeout) as cat:
        frame = cat.sql(statement, values)
    _emit(frame, fmt)
    if frame.empty:
        sys.exit(1)


def _open(catalog_class: Any, url: str | None, admin: bool, timeout: float | None) -> Any:
    from ..query import DEFAULT_TIMEOUT

    return catalog_class(url, admin=admin,
                         timeout=DEFAULT_TIMEOUT if timeout is None else timeout)


def _parse_param(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name.isidentifier():
        raise CommandInputError(f"--param {text!r}: give NAME=VALUE, e.g. --param n=100")
    for convert in (int, float):
        try:
            return name, convert(raw)
        except ValueError:
            pass
    return name, raw


def _plain(value: Any) -> Any:
    """A Python scalar for output: missing values as None, numpy numbers as numbers."""
    if value is None:
        return None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _emit(frame: Any, fmt: str | None, empty: str = "no matching rows") -> None:
    """Print the frame as a table, CSV or JSON (*empty* on stderr for an empty table)."""
    import json

    columns = [str(c) for c in frame.columns]
    rows = [[_plain(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    if fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    elif fmt == "json":
        records = [dict(zip(columns, row)) for row in rows]
        click.echo(json.dumps(records, indent=1, default=str))
    elif rows:
        from ._table import format_table

        click.echo(format_table(columns, rows))
    else:
        click.echo(empty, err=True)
