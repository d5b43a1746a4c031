"""Streaming commands: ``karabo-bridge-serve-run`` / ``-serve-files`` and ``xfel-index serve``.

Options and messages follow EXtra-data's commands. Ctrl-C and SIGTERM stop a
server cleanly: the socket is closed, "Stopped." printed, exit status 0.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import click

from ._options import catalog_errors, catalog_option, run_filter_arguments, run_filter_options

F = TypeVar("F", bound=Callable[..., Any])

_CONTEXT = {"help_option_names": ["-h", "--help"]}


def _stream_options(func: F) -> F:
    """The options every streaming command shares, named as in EXtra-data."""
    for option in reversed([
        click.option("--append-detector-modules", is_flag=True,
                     help="Combine multiple module sources into one (AGIPD, DSSC, LPD)."),
        click.option("--dummy-timestamps", is_flag=True,
                     help="Create dummy timestamps if the metadata lacks proper timestamps."),
        click.option("--use-infiniband", is_flag=True,
                     help="Use the InfiniBand interface if available (if a TCP port is "
                          "specified)."),
        click.option("-z", "--socket-type", type=click.Choice(["PUB", "PUSH", "REP"]),
                     default="REP", show_default=True, help="ZeroMQ socket type."),
    ]):
        func = option(func)
    return func


def _raise_interrupt(signum: int, frame: Any) -> NoReturn:
    raise KeyboardInterrupt


@contextmanager
def _sigterm_stops() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C while serving, so both shut down the same clean way."""
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _parse_include(patterns: tuple[str, ...]) -> list[str | tuple[str, str]]:
    """``SRC`` or ``SRC[KEY]`` patterns as select() arguments."""
    include: list[str | tuple[str, str]] = []
    for pattern in patterns:
        if "[" in pattern:
            if not pattern.endswith("]"):
                sys.exit(f"Missing final ] in {pattern!r}")
            source, key = pattern[:-1].split("[", 1)
            include.append((source, key))
        else:
            include.append(pattern)
    return include


def _serving_errors(func: Callable[[], None]) -> None:
    """Run *func*, turning a port in use or a missing path into a one-line error."""
    try:
        func()
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc


# -- karabo-bridge-serve-run -------------------------------------------------------


@click.command("karabo-bridge-serve-run", context_settings=_CONTEXT)
@click.argument("proposal")
@click.argument("run")
@click.option("--port", default="0", show_default=True,
              help="TCP port or ZMQ endpoint to send data on. Selects a random TCP port "
                   "by default.")
@click.option("--include", multiple=True, metavar="SRC[KEY]",
              help="Select matching sources (and optionally keys) to include in streamed "
                   "data (repeatable).")
@click.option("--allow-partial", is_flag=True,
              help="Send trains where some sources are missing.")
@_stream_options
def serve_run(proposal: str, run: str, port: str, include: tuple[str, ...],
              allow_partial: bool, append_detector_modules: bool, dummy_timestamps: bool,
              use_infiniband: bool, socket_type: str) -> None:
    """Stream a run over the Karabo bridge.

    \b
    Example:
        karabo-bridge-serve-run 700000 40 --port 4545 \\
            --include 'SPB_DET_AGIPD1M-1/DET/*CH0:xtdf' --include '*/MOTOR/*[*Position]'
    """
    from ..export import serve_data
    from ..export.serve import select_for_streaming
    from ..reader.opening import open_run

    try:
        data = open_run(proposal, run, data="all")
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not include:
        click.echo("Available sources:")
        for source in sorted(data.all_sources):
            click.echo(f"  {source}")
        sys.exit("Please select at least one source with --include")
    try:
        selection = select_for_streaming(data, _parse_include(include), allow_partial)
    except (ValueError, KeyError) as exc:  # a pattern matching nothing
        raise click.ClickException(str(exc).strip("'\"")) from exc
    try:
        with _sigterm_stops():
            _serving_errors(lambda: serve_data(
                selection, port, append_detector_modules=append_detector_modules,
                dummy_timestamps=dummy_timestamps, use_infiniband=use_infiniband,
                sock=socket_type, require_all=not allow_partial))
    except KeyboardInterrupt:
        click.echo("\nStopped.")


def serve_run_main(argv: list[str] | None = None) -> None:
    """Entry point of ``karabo-bridge-serve-run``."""
    serve_run.main(args=argv, prog_name="karabo-bridge-serve-run")


# -- karabo-bridge-serve-files ---------------------------------------------------------


@click.command("karabo-bridge-serve-files", context_settings=_CONTEXT)
@click.argument("path")
@click.argument("port")
@click.option("--source", default="*", show_default=True,
              help="Stream only matching sources ('*' is a wildcard).")
@click.option("--key", default="*", show_default=True,
              help="Stream only matching keys ('*' is a wildcard).")
@_stream_options
def serve_files(path: str, port: str, source: str, key: str, append_detector_modules: bool,
                dummy_timestamps: bool, use_infiniband: bool, socket_type: str) -> None:
    """Stream a file or a run directory over the Karabo bridge.

    \b
    Example:
        karabo-bridge-serve-files /gpfs/exfel/exp/SPB/202601/p700000/raw/r0040 4545 \\
            --source '*/DET/*'
    """
    from ..export import serve_files as serve

    try:
        with _sigterm_stops():
            _serving_errors(lambda: serve(
                path, port, source_glob=source, key_glob=key,
                append_detector_modules=append_detector_modules,
                dummy_timestamps=dummy_timestamps, use_infiniband=use_infiniband,
                sock=socket_type))
    except KeyboardInterrupt:
        pass
    click.echo("\nStopped.")


def serve_files_main(argv: list[str] | None = None) -> None:
    """Entry point of ``karabo-bridge-serve-files``."""
    serve_files.main(args=argv, prog_name="karabo-bridge-serve-files")


# -- xfel-index serve -------------------------------------------------------------------


@click.command("serve", context_settings=_CONTEXT)
@catalog_option
@run_filter_options
@click.option("--port", default="0", show_default=True,
              help="TCP port or ZMQ endpoint to send data on (0: a random TCP port).")
@click.option("--include", multiple=True, metavar="SRC[KEY]", required=True,
              help="Sources (and optionally keys) to stream (repeatable).")
@click.option("--allow-partial", is_flag=True,
              help="Send trains where some included sources are missing.")
@_stream_options
@click.option("--admin", is_flag=True,
              help="See every proposal, not only those whose directory you can read.")
@catalog_errors
def serve_query(catalog: str | None, port: str, include: tuple[str, ...], allow_partial: bool,
                append_detector_modules: bool, dummy_timestamps: bool, use_infiniband: bool,
                socket_type: str, admin: bool, run_range: str | None,
                **filters: Any) -> None:
    """Stream the trains of every run matching the filters, in train order.

    The filters are those of ``xfel-index query``. Complete trains (every
    --include pattern has data, unless --allow-partial) are chosen from the
    catalogue before any file is opened; runs without a match are skipped.

    \b
    Example:
        xfel-index serve --sample 'Lys*' --source '*AGIPD1M*' \\
            --include '*AGIPD1M*[image.data]' --include '*XGM*' --port 4545

    Exit status 0 when streamed, 1 when no run matches, 2 for a bad query.
    """
    import warnings

    from ..export import serve_runs
    from ..query import Catalog

    arguments = run_filter_arguments(filters, run_range)
    with Catalog(catalog, admin=admin) as cat:
        matches = cat.runs(**arguments)
        if matches.empty:
            click.echo("no matching runs", err=True)
            sys.exit(1)
        with warnings.catch_warnings():
            # A run without proc data is normal here; open_run(data='all') would warn.
            warnings.filterwarnings("ignore", "No data available for this run at origin")
            categories = arguments.get("data_category") or []
            data = categories[0] if len(categories) == 1 else "all"  # --data proc: proc only
            runs = list(cat.open_runs(matches, data=data))
    click.echo(f"Streaming {len(runs)} run(s)")
    try:
        with _sigterm_stops():
            _serving_errors(lambda: serve_runs(
                runs, port, _parse_include(include), allow_partial=allow_partial,
                append_detector_modules=append_detector_modules,
                dummy_timestamps=dummy_timestamps, use_infiniband=use_infiniband,
                sock=socket_type))
    except KeyboardInterrupt:
        click.echo("\nStopped.")


__all__ = ["serve_run", "serve_files", "serve_query", "serve_run_main", "serve_files_main"]
