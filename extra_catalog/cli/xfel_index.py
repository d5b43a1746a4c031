"""``xfel-index``: build, inspect and query the catalogue.

Exit status: 0 success, 1 the command ran but found problems (or, for
queries, no results), 2 usage errors and bad input, 3 a subcommand that is
not available yet.
"""

from __future__ import annotations

from pathlib import Path

import click

from .._version import __version__

DEFAULT_DEMO_DIR = "xfel-demo"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xfel-index")
def cli() -> None:
    """Catalogue European XFEL runs and ask questions across them.

    \b
    Example:
        xfel-index demo            # write a demo tree and summarise it
    """


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path),
                default=DEFAULT_DEMO_DIR)
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the generated data.")
def demo(directory: Path, seed: int) -> None:
    """Write a small demo facility tree into DIRECTORY and summarise it.

    \b
    Example:
        xfel-index demo /tmp/xfel-demo
    """
    from ..testing import write_demo_tree

    run_dirs = write_demo_tree(directory, seed=seed)
    n_files = sum(len(list(Path(d).glob("*.h5"))) for d in run_dirs)
    size = sum(f.stat().st_size for d in run_dirs for f in Path(d).glob("*.h5"))
    click.echo(f"Demo tree written to {directory}: {len(run_dirs)} runs, "
               f"{n_files} files, {size / 1e6:.1f} MB")
    for d in run_dirs:
        click.echo(f"  {Path(d).relative_to(directory)}")


# --- catalogue administration ------------------------------------------------

class _CatalogCommandError(click.ClickException):
    """A catalogue problem reported as bad input (exit status 2)."""

    exit_code = 2


def _catalog_errors(func):  # type: ignore[no-untyped-def]
    """Report catalogue errors as one line naming the fix, not a traceback."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        from ..exceptions import CatalogError

        try:
            return func(*args, **kwargs)
        except CatalogError as exc:
            raise _CatalogCommandError(str(exc)) from exc

    return wrapper


@cli.command()
@click.argument("url", required=False, metavar="[URL]")
@_catalog_errors
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


@cli.command()
@click.argument("url", required=False, metavar="[URL]")
@_catalog_errors
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


@cli.command()
@click.argument("url", required=False, metavar="[URL]")
@_catalog_errors
def status(url: str | None) -> None:
    """Show the catalogue's schema revision and size; exit 1 if it needs an upgrade.

    URL defaults as for `xfel-index init`.

    \b
    Example:
        xfel-index status
    """
    from ..catalog.schema import catalog_status

    found = catalog_status(url)
    click.echo(f"catalogue: {found.url}")
    click.echo(f"revision:  {found.revision} (this extra_catalog expects {found.expected})")
    for table, count in found.counts:
        click.echo(f"{table + ':':<10} {count}")
    if not found.up_to_date:
        click.echo(f"needs an upgrade: run `xfel-index upgrade {found.url}`", err=True)
        raise SystemExit(1)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``xfel-index``."""
    cli.main(args=argv, prog_name="xfel-index")


def _register_subcommands() -> None:
    from .crawl import crawl

    cli.add_command(crawl)


_register_subcommands()
