"""``xfel-index demo``: generated data, catalogued, in one command."""

from __future__ import annotations

from pathlib import Path

import click

from ._options import catalog_errors
from ._table import format_table

DEFAULT_DEMO_DIR = "xfel-demo"


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path),
                default=DEFAULT_DEMO_DIR)
@click.option("--catalog", metavar="URL", default=None,
              help="Catalogue to index the demo into [default: DIRECTORY/catalog.sqlite, so "
                   "your own catalogue is left alone].")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the generated data.")
@catalog_errors
def demo(directory: Path, catalog: str | None, seed: int) -> None:
    """Write a demo facility tree into DIRECTORY, catalogue it and summarise it.

    The tree has two instruments, three proposals and nine runs in every
    format version (detectors, suspect trains, auxiliary sources...).

    \b
    Example:
        xfel-index demo /tmp/xfel-demo
    """
    from ..catalog import list_runs
    from ..index.crawler import CrawlOptions, crawl
    from ..testing import write_demo_tree
    from ._options import open_or_create_catalog

    directory = directory.absolute()
    run_dirs = write_demo_tree(directory, seed=seed)
    size = sum(f.stat().st_size for d in run_dirs for f in Path(d).glob("*.h5"))
    click.echo(f"Wrote a demo tree of {len(run_dirs)} runs ({size / 1e6:.1f} MB) to {directory}")
    url = catalog or str(directory / "catalog.sqlite")
    with open_or_create_catalog(url) as cat:
        summary = crawl(cat, [directory], CrawlOptions(settle=0))
        runs = list_runs(cat)
    click.echo(f"Indexed it into {url} in {summary.seconds:.1f} s: {summary.runs_new} new runs, "
               f"{summary.files_new} files.\n")
    rows = [(r.info.proposal, r.info.run, r.info.data_category, r.info.instrument, r.info.cycle,
             r.n_files, r.info.n_trains, r.info.format_version, r.info.sample or None)
            for r in runs if Path(r.info.path).is_relative_to(directory)]
    click.echo(format_table(["proposal", "run", "data", "instrument", "cycle", "files",
                             "trains", "format", "sample"], rows))
    click.echo(f"\nNext: xfel-index status {url}")
