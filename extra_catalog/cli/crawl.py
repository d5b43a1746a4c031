"""``xfel-index crawl``: bring the catalogue up to date with run directories."""

from __future__ import annotations

import json
import sys

import click

from ._options import catalog_errors, catalog_option


def _proposal_numbers(ctx: click.Context, param: click.Parameter,
                      values: tuple[str, ...]) -> list[int] | None:
    """Accept ``900001``, ``p900001`` and comma-separated lists."""
    numbers = []
    for value in values:
        for item in value.split(","):
            item = item.strip().lstrip("pP")
            if not item.isdigit():
                raise click.BadParameter(f"{item!r} is not a proposal number (e.g. 900001)")
            numbers.append(int(item))
    return numbers or None


@click.command()
@click.argument("roots", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False))
@catalog_option
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes reading files [default: number of CPUs].")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0,
              show_default=True, help="Seconds one file may take before it is recorded as hanging.")
@click.option("--settle", type=click.FloatRange(min=0), default=300.0, show_default=True,
              help="Leave runs with a file modified in the last SECONDS for the next crawl "
                   "(0: index everything now).")
@click.option("--raw", "categories", flag_value="raw", multiple=True, help="Only raw runs.")
@click.option("--proc", "categories", flag_value="proc", multiple=True, help="Only proc runs.")
@click.option("--category", "categories", multiple=True, metavar="NAME",
              help="Only runs of this data category (repeatable).")
@click.option("-p", "--proposal", "proposals", multiple=True, callback=_proposal_numbers,
              metavar="N[,N...]", help="Only these proposals (repeatable).")
@click.option("--wait", type=click.FloatRange(min=0), default=0.0, metavar="SECONDS",
              help="If another crawler is writing, wait up to SECONDS instead of exiting.")
@click.option("--check-locality", is_flag=True,
              help="Also ask dCache again where unchanged files on it are stored (tape or "
                   "disk); run it after an upgrade and e.g. daily.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar [default: only on a terminal, so cron stays quiet].")
@catalog_errors
def crawl(roots: tuple[str, ...], catalog: str | None, jobs: int | None, timeout: float,
          settle: float, categories: tuple[str, ...], proposals: list[int] | None,
          wait: float, check_locality: bool, as_json: bool, progress: bool | None) -> None:
    """Record the runs in ROOTS (facility, proposal or run directories) in the catalogue.

    Only files that are new or changed since the last crawl are read; runs
    and files that disappeared are removed. Each run is written in one
    transaction, so an interrupted crawl is completed by the next one.

    Exit status: 0 clean, 1 problems were recorded (unreadable files, bad
    INDEX...), 2 usage errors (bad options, missing directory, catalogue
    busy or out of date).

    \b
    Examples:
        xfel-index crawl /gpfs/exfel/exp                   # everything
        xfel-index crawl /gpfs/exfel/exp --raw -p 900001   # one proposal's raw runs
        xfel-index crawl xfel-demo --settle 0 --json
    """
    from ..catalog.lock import writer_lock
    from ..index.crawler import CrawlOptions
    from ..index.crawler import crawl as run_crawl
    from ._options import open_or_create_catalog

    options = CrawlOptions(processes=jobs, timeout=timeout, settle=settle,
                           categories=sorted(set(categories)) or None, proposals=proposals,
                           check_locality=check_locality)
    show_bar = sys.stderr.isatty() if progress is None else progress
    with open_or_create_catalog(catalog) as cat, writer_lock(cat, wait=wait):
        with _ProgressBar(show_bar) as bar:
            summary = run_crawl(cat, roots, options, progress=bar.update)
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        click.echo(summary.text())
    sys.exit(summary.exit_status)


class _ProgressBar:
    """A click progress bar on stderr that appears once the total is known."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._bar = None
        self._done = 0

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def update(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            self._bar = click.progressbar(length=total, label="reading files",
                                          file=sys.stderr, show_pos=True)
            self._bar.__enter__()
        self._bar.update(done - self._done)
        self._done = done
