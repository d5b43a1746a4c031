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


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``xfel-index``."""
    cli.main(args=argv, prog_name="xfel-index")
