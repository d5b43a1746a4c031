"""``xfel-index init``, ``upgrade`` and ``status``: looking after the catalogue."""

from __future__ import annotations

import click

from ._options import catalog_errors
from ._table import format_table

URL_HELP = """URL is a database URL or an SQLite file; without it, $EXTRA_CATALOG_URL,
else $XDG_DATA_HOME/extra_catalog/catalog.sqlite (XDG_DATA_HOME defaults
to ~/.local/share)."""


@click.command()
@click.argument("url", required=False, metavar="[URL]")
@catalog_errors
def init(url: str | None) -> None:
    """Create a catalogue at URL (nothing to do if it is already there).

    URL is a database URL or an SQLite file; without it, $EXTRA_CATALOG_URL,
    else $XDG_DATA_HOME/extra_catalog/catalog.sqlite (XDG_DATA_HOME defaults
    to ~/.local/share).

    \b
    Examples:
        xfel-index init                               # the per-user SQLite file
        xfel-index init /data/catalog.sqlite
        xfel-index init postgresql+psycopg://xfel@dbhost/catalog
    """
    from ..catalog.engine import display_url
    from ..catalog.schema import head_revision, init_catalog

    resolved = init_catalog(url)
    click.echo(f"Catalogue at {display_url(resolved)} is ready (revision {head_revision()}).")


@click.command()
@click.argument("url", required=False, metavar="[URL]")
@catalog_errors
def upgrade(url: str | None) -> None:
    """Upgrade the catalogue at URL to the schema this extra_catalog expects.

    URL defaults as for `xfel-index init`.

    \b
    Example:
        xfel-index upgrade /data/catalog.sqlite
    """
    from ..catalog.engine import display_url, resolve_url
    from ..catalog.schema import upgrade_catalog

    resolved = resolve_url(url)
    before, after = upgrade_catalog(resolved)
    shown = display_url(resolved)
    if before == after:
        click.echo(f"Catalogue at {shown} is already at revision {after}.")
    else:
        click.echo(f"Upgraded catalogue at {shown} from revision {before} to {after}.")


@click.command()
@click.argument("url", required=False, metavar="[URL]")
@catalog_errors
def status(url: str | None) -> None:
    """Show what the catalogue holds and when each proposal was last crawled.

    Exit status 1 if the catalogue needs an upgrade. URL defaults as for
    `xfel-index init`.

    \b
    Example:
        xfel-index status
    """
    from ..catalog import list_proposals, open_catalog
    from ..catalog.schema import catalog_status

    found = catalog_status(url)
    click.echo(f"catalogue: {found.url}")
    click.echo(f"revision:  {found.revision} (this extra_catalog expects {found.expected})")
    if not found.up_to_date:
        click.echo(f"needs an upgrade: run `xfel-index upgrade {found.url}`", err=True)
        raise SystemExit(1)
    click.echo(", ".join(f"{count} {table}" for table, count in found.counts))
    with open_catalog(url) as catalog:
        proposals = list_proposals(catalog)
    if proposals:
        rows = [(p.proposal, p.instrument, p.cycle, p.n_runs, p.n_files,
                 p.last_crawled.strftime("%Y-%m-%d %H:%M:%S UTC") if p.last_crawled else None)
                for p in proposals]
        click.echo()
        click.echo(format_table(["proposal", "instrument", "cycle", "runs", "files",
                                 "last crawled"], rows))
