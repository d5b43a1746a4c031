"""``xfel-index``: build, inspect and query the catalogue.

Exit status: 0 success, 1 the command ran but found problems (or, for
queries, no results), 2 usage errors and bad input.
"""

from __future__ import annotations

import click

from .._version import __version__
from .admin import init, status, upgrade
from .crawl import crawl
from .demo import demo
from .problems import problems
from .query import query, sql
from .serve import serve_query
from .verify import verify


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xfel-index")
def cli() -> None:
    """Catalogue European XFEL runs and ask questions across them.

    \b
    Examples:
        xfel-index demo                        # generate a demo tree and catalogue it
        xfel-index crawl /gpfs/exfel/exp       # record runs (run it from cron)
        xfel-index status                      # what the catalogue holds
    """


for _command in (demo, init, upgrade, status, crawl, query, sql, problems, verify, serve_query):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``xfel-index``."""
    cli.main(args=argv, prog_name="xfel-index")
