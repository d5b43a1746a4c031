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
