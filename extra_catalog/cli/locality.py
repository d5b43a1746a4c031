"""``extra-data-locality`` and ``extra-data-readable``: can these files be read now?

``extra-data-locality PATH`` lists the files of a run directory that dCache
holds only on tape, that are unavailable or whose locality is unknown; the
exit status is a bit mask (1 tape, 2 unavailable, 4 unknown; 255 when PATH
does not exist).

``extra-data-readable INPUT...`` checks each HDF5 file in a child process
with a deadline, prints one mark per file (``.`` readable, ``T`` timed out,
``E`` error, ``X`` not available), the access times and the state of the
files that are not readable; exit status 0 only if every file is readable.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..locality.readable import ReadableResult

#: Exit status of ``extra-data-locality`` when the path does not exist.
EXIT_NO_PATH = 255

_CONTEXT = {"help_option_names": ["-h", "--help"]}


@click.command(context_settings=_CONTEXT)
@click.argument("path")
@click.option("--timeout", type=float, default=None, metavar="SECS",
              help="Seconds to wait for dCache's answer about one file [default: 10].")
def locality_command(path: str, timeout: float | None) -> int:
    """Check how the files in PATH (a run directory or a file) are stored.

    Lists the files only on tape, unavailable or of unknown locality: reading
    them would hang for a long time or fail.

    \b
    Example:
        extra-data-locality /gpfs/exfel/exp/XMPL/201750/p700000/raw/r0002

    Exit status: 0 all on disk; else the sum of 1 (only on tape),
    2 (unavailable) and 4 (unknown locality); 255 if PATH does not exist.
    """
    import os

    from ..locality import check_dir

    if not os.path.exists(path):
        click.echo(f"Path '{path}' is not found")
        return EXIT_NO_PATH
    return check_dir(path, timeout)


@click.command(context_settings=_CONTEXT)
@click.argument("inputs", metavar="INPUT...", nargs=-1, required=True, type=Path)
@click.option("--all", "-a", "show_all", is_flag=True,
              help="Show the result for all files rather than only unreadable ones.")
@click.option("--recursive", "-r", is_flag=True,
              help="Search directories given as input recursively for HDF5 files.")
@click.option("--timeout", type=float, default=5.0, metavar="SECS", show_default=True,
              help="Seconds one file's access check may take.")
def readable_command(inputs: tuple[Path, ...], show_all: bool, recursive: bool,
                     timeout: float) -> int:
    """Check whether European XFEL data files are readable now.

    Each INPUT is a folder of HDF5 files or a file. Every file is checked in
    a child process that asks dCache for its locality, stats it and opens it;
    a check taking longer than --timeout is stopped.

    \b
    Example:
        extra-data-readable /gpfs/exfel/exp/XMPL/201750/p700000/raw/r0002 --all

    Marks: '.' readable, 'T' timed out, 'E' error, 'X' not available
    (only on tape, unavailable or cannot be opened). Exit status 0 if every
    file is readable, else 1.
    """
    from ..locality.readable import check_readable

    if timeout <= 0:
        raise click.BadParameter(f"{timeout:g}: give a number of seconds above 0",
                                 param_hint="--timeout")
    paths = _collect(inputs, recursive)
    if not paths:
        click.echo("No HDF5 files to check")
        return 0
    results = []
    for result in check_readable(paths, timeout):
        click.echo(result.mark, nl=False)
        sys.stdout.flush()
        results.append(result)
    click.echo("")
    _summary(results, show_all)
    return 0 if all(r.readable for r in results) else 1


def _collect(inputs: Sequence[Path], recursive: bool) -> list[Path]:
    """The HDF5 files of the inputs; inputs that do not exist are named on stderr."""
    paths: list[Path] = []
    for given in inputs:
        if given.is_dir():
            paths.extend(sorted(given.glob("**/*.h5" if recursive else "*.h5")))
        elif given.exists() or given.is_symlink():
            paths.append(given)
        else:
            click.echo(f"{given}: no such file or directory, not checked", err=True)
    return paths


def _summary(results: Sequence[ReadableResult], show_all: bool) -> None:
    times = [r.seconds for r in results if r.seconds is not None]
    if times:
        click.echo(f"average access time: {sum(times) / len(times):.3g}s, "
                   f"max access time: {max(times):.3g}s")
    else:
        click.echo("no files are readable")
    shown = {str(r.path): r.state for r in results if show_all or not r.readable}
    if not shown:
        click.echo("all files readable")
        return
    width = max(len(p) for p in shown) + 3
    for path in sorted(shown):
        click.echo(f"{path.ljust(width)} {shown[path]}")


def _run(command: click.Command, name: str, argv: Sequence[str] | None) -> int:
    """Run a command that returns its exit status; usage errors give status 2."""
    try:
        status = command.main(args=list(argv) if argv is not None else None, prog_name=name,
                              standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("Aborted!", err=True)
        return 1
    return int(status or 0)


def run_locality(argv: Sequence[str] | None = None) -> int:
    """``extra-data-locality`` without exiting: returns the exit status."""
    return _run(locality_command, "extra-data-locality", argv)


def run_readable(argv: Sequence[str] | None = None) -> int:
    """``extra-data-readable`` without exiting: returns the exit status."""
    return _run(readable_command, "extra-data-readable", argv)


def locality_main(argv: list[str] | None = None) -> None:
    """Entry point of ``extra-data-locality``."""
    sys.exit(run_locality(argv))


def readable_main(argv: list[str] | None = None) -> None:
    """Entry point of ``extra-data-readable``."""
    sys.exit(run_readable(argv))
