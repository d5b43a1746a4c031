"""``lsxfel``: summarise EuXFEL data files, run directories and proposals.

Runs known to the catalogue are described from it, without opening any HDF5
file; other files are read in worker processes, each within ``--timeout``
seconds, so a file on tape or a hanging file system never blocks the listing.
The output is EXtra-data's.

Exit status: 0 on success, 1 when a source pattern matches nothing or data
cannot be read, 2 for a path that is missing or not EuXFEL data.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from glob import escape
from typing import Any

import click

__all__ = ["main", "summarise_file", "summarise_run"]

#: Aggregator names of multi-module detector files (``RAW-R0001-AGIPD00-S00000.h5``).
DETECTOR_AGGREGATORS = ("AGIPD", "DSSC", "LPD")
#: Seconds lsxfel waits for one file the catalogue cannot describe (``--timeout``).
DEFAULT_TIMEOUT = 30.0
_SEQUENCE_FILE = re.compile(r"(.+)-S\d+\.h5$")
_RUN_DIR = re.compile(r"r\d+")


def _is_detector_file(name: str) -> bool:
    parts = name[:-3].split("-")
    match = re.match(r"([A-Z]+)(\d+)", parts[2]) if len(parts) == 4 else None
    return match is not None and match[1] in DETECTOR_AGGREGATORS


def summarise_file(path: str, timeout: float | None = DEFAULT_TIMEOUT) -> None:
    """Print ``<name> : Data file`` and its numbers of trains and sources."""
    print(os.path.basename(path), ": Data file")
    data = _open_file(path, timeout)
    print(f"  {len(data.train_ids)} trains, {len(data.all_sources)} sources")


def _open_run(path: str, include: str = "*", timeout: float | None = DEFAULT_TIMEOUT) -> Any:
    """A run directory's files as a collection; uncatalogued files read with a deadline."""
    from ..reader.collection import DataCollection
    from ..reader.runfiles import open_run_files

    files = open_run_files(path, include=include, timeout=timeout).files
    return DataCollection(files, ctx_closes=True, is_single_run=True)


def summarise_run(path: str, indent: str = "", timeout: float | None = DEFAULT_TIMEOUT) -> None:
    """Print one line for a run directory: trains, detector and other files.

    The train count comes from one group of sequence files (the shortest),
    as in EXtra-data; from the catalogue when it knows the run.

    Raises
    ------
    ValueError
        The directory holds no ``*-S<n>.h5`` sequence files.
    """
    groups: dict[str, list[str]] = {}
    n_detector = n_other = 0
    for name in sorted(os.listdir(path)):
        match = _SEQUENCE_FILE.match(name)
        if match is None:
            continue
        groups.setdefault(match[1], []).append(name)
        if _is_detector_file(name):
            n_detector += 1
        else:
            n_other += 1
    if not groups:
        raise ValueError(f"No data files recognised in {path}")
    prefix = min(groups.items(), key=lambda item: len(item[1]))[0]
    data = _open_run(path, include=f"{escape(prefix)}-S*.h5", timeout=timeout)
    train_ids = set().union(*(set(fa.train_ids.tolist()) for fa in data.files))
    print(f"{indent}{os.path.basename(path)} : Run of {len(train_ids):>4} trains, "
          f"with {n_detector:>3} detector files and {n_other:>3} others")


def _patterns(given: Sequence[str]) -> list[str]:
    """Patterns without glob characters match anywhere in a name."""
    return [p if re.search(r"[*?[]", p) else f"*{p}*" for p in given]


def _show(data: Any, sources: list[str], details: list[str], options: dict[str, bool]) -> None:
    if sources:
        try:
            selected = data.select(sources)
        except ValueError as err:  # no source matches
            sys.exit(str(err))
        print(f"Showing {len(selected.all_sources)} / {len(data.all_sources)} sources")
    else:
        selected = data
    print()
    selected.info(details, **options)


def _open_file(path: str, timeout: float | None = DEFAULT_TIMEOUT) -> Any:
    """One file as a collection, from the catalogue when its run is catalogued."""
    from ..reader.opening import H5File

    folder, name = os.path.split(os.path.abspath(path))
    try:
        return _open_run(folder, include=escape(name), timeout=timeout)
    except FileNotFoundError:  # not a listed run file (e.g. overview.h5)
        return H5File(path)


def _run_dirs(folder: str) -> list[str]:
    return [os.path.join(folder, n) for n in sorted(os.listdir(folder))
            if _RUN_DIR.match(n) and os.path.isdir(os.path.join(folder, n))]


def _summarise_run_safely(run_dir: str, timeout: float | None, indent: str = "") -> int:
    """:func:`summarise_run`, saying so in its line when the folder holds no data."""
    try:
        summarise_run(run_dir, indent=indent, timeout=timeout)
    except ValueError as err:
        print(f"{indent}{os.path.basename(run_dir)} : {err}")
        return 2
    return 0


def _summarise_runs(folder: str, timeout: float | None, indent: str = "  ") -> int:
    return max([_summarise_run_safely(d, timeout, indent) for d in _run_dirs(folder)],
               default=0)


def _one_path(path: str, sources: list[str], details: list[str],
              options: dict[str, bool], timeout: float | None) -> int:
    name = os.path.basename(os.path.abspath(path.rstrip("/")))
    if os.path.isdir(path):
        contents = sorted(os.listdir(path))
        if any(f.endswith(".h5") for f in contents):
            print(name, ": Run directory")
            _show(_open_run(path, timeout=timeout), sources, details, options)
        elif any(_RUN_DIR.match(f) for f in contents):
            print(name, ": Proposal data directory")
            print()
            return _summarise_runs(path, timeout)
        elif os.path.isdir(os.path.join(path, "raw")):
            print(name, ": Proposal directory")
            print()
            print(f"{name}/raw/")
            return _summarise_runs(os.path.join(path, "raw"), timeout)
        else:
            print(name, ": Unrecognised directory")
        return 0
    if os.path.isfile(path):
        if not path.endswith(".h5"):
            print(name, ": Unrecognised file")
            return 2
        print(name, ": Data file")
        _show(_open_file(path, timeout), sources, details, options)
        return 0
    print(path, ": File/folder not found")
    return 2


def _many_paths(paths: Sequence[str], timeout: float | None) -> int:
    status = 0
    for path in paths:
        name = os.path.basename(path)
        if os.path.isdir(path):
            contents = os.listdir(path)
            if any(f.endswith(".h5") for f in contents):
                status = max(status, _summarise_run_safely(path, timeout))
            elif any(_RUN_DIR.match(f) for f in contents):
                print(name, ": Proposal directory")
                print()
                status = max(status, _summarise_runs(path, timeout))
            else:
                print(name, ": Unrecognised directory")
                status = 2
        elif os.path.isfile(path) and path.endswith(".h5"):
            summarise_file(path, timeout)
        elif os.path.isfile(path):
            print(name, ": Unrecognised file")
            status = 2
        else:
            print(path, ": File/folder not found")
            status = 2
    return status


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1)
@click.option("--source", "-s", multiple=True,
              help="Show only sources matching this pattern ('*XGM/*:output', or 'XGM' "
                   "to match anywhere). Repeatable.")
@click.option("--detail", "-d", multiple=True,
              help="Show keys and data counts of sources matching this pattern (also "
                   "selects them unless --source is given). Repeatable.")
@click.option("--counts", "-c", is_flag=True, help="Show data counts of instrument sources.")
@click.option("--no-group", is_flag=True, help="List every source; don't group similar names.")
@click.option("--aggregators", "-g", is_flag=True,
              help="Show the data aggregator of each source.")
@click.option("--auxiliary", "-x", is_flag=True,
              help="Also list auxiliary (REDUCTION and ERRATA) sources.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_TIMEOUT,
              show_default=True,
              help="Seconds to wait for each file the catalogue cannot describe; a file "
                   "that takes longer (on tape?) is skipped with a note.")
def lsxfel(paths: tuple[str, ...], source: tuple[str, ...], detail: tuple[str, ...],
           counts: bool, no_group: bool, aggregators: bool, auxiliary: bool,
           timeout: float) -> None:
    """Summarise EuXFEL data: a data file, a run directory or a proposal.

    \b
    Examples:
        lsxfel /gpfs/exfel/exp/SPB/202601/p900001/raw/r0002
        lsxfel r0002 -d XGM -c
        lsxfel /gpfs/exfel/exp/SPB/202601/p900001
    """
    from ..exceptions import ExtraCatalogError

    options = {"counts": counts, "group_sources": not no_group,
               "with_aggregators": aggregators, "with_auxiliary": auxiliary}
    try:
        if len(paths) > 1:
            sys.exit(_many_paths(paths, timeout))
        status = _one_path(paths[0] if paths else os.getcwd(),
                           _patterns(source or detail), _patterns(detail), options, timeout)
    except (ExtraCatalogError, OSError) as err:
        raise click.ClickException(str(err)) from None
    sys.exit(status)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``lsxfel``."""
    lsxfel.main(args=argv, prog_name="lsxfel")
