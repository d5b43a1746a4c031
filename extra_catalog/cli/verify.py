"""``xfel-index verify``: does the catalogue still match the file system?

Exit status: 0 everything agrees, 1 differences were found (listed), 2 bad
input, as for the other ``xfel-index`` commands.
"""

from __future__ import annotations

import json
import sys

import click

from ._options import catalog_errors, catalog_option


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(file_okay=False))
@click.option("--all", "check_all", is_flag=True, help="Every catalogued run.")
@catalog_option
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
@catalog_errors
def verify(paths: tuple[str, ...], check_all: bool, catalog: str | None, as_json: bool) -> None:
    """Compare the catalogue with the run directories in PATHS (or --all).

    Lists catalogued files that are missing, files the catalogue does not
    know, files changed since they were read (size, time or inode), and run
    directories that are missing or not catalogued. No HDF5 file is opened;
    ``xfel-index crawl`` brings the catalogue up to date.

    \b
    Examples:
        xfel-index verify /gpfs/exfel/exp/SPB/202601/p900001
        xfel-index verify --all --json

    Exit status 0 when they agree, 1 when they differ, 2 for bad input.
    """
    from ..catalog import open_catalog
    from ..index.verify import verify as run_verify

    if bool(paths) == check_all:
        raise click.UsageError("give run or proposal directories, or --all (not both)")
    with open_catalog(catalog) as cat:
        differences = run_verify(cat, None if check_all else paths)
    if as_json:
        click.echo(json.dumps([{"kind": d.kind, "path": d.path, "detail": d.detail}
                               for d in differences], indent=1))
    elif differences:
        from ._table import format_table

        click.echo(format_table(["kind", "path", "detail"],
                                [(d.kind, d.path, d.detail) for d in differences]))
    else:
        click.echo("the catalogue and the file system agree")
    sys.exit(1 if differences else 0)
