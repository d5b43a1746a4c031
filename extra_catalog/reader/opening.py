"""Opening files and runs: ``open_run``, ``RunDirectory``, ``H5File``.

Runs are found as EXtra-data finds them, under ``$EXTRA_DATA_DATA_ROOT``
(default ``/gpfs/exfel/exp``) in ``<root>/<INSTR>/<CYCLE>/p<NNNNNN>/<data>/r<NNNN>``;
when the catalogue knows the proposal, its directory comes from there
instead of a glob over every instrument and cycle. The files of a run come
from :func:`~extra_catalog.reader.runfiles.open_run_files`: from the
catalogue where it is fresh, from disk where not.
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .gcpause import gc_paused
from .runfiles import DEFAULT_CATALOG, open_run_files

__all__ = ["open_run", "RunDirectory", "H5File", "find_proposal", "data_root_dir",
           "sw_root_dir", "alias_file_for", "DEFAULT_DATA_ROOT", "DEFAULT_ALIASES_FILE"]

DEFAULT_DATA_ROOT = "/gpfs/exfel/exp"
DEFAULT_SW_ROOT = "/gpfs/exfel/sw"
#: The per-proposal alias file ``open_run`` loads by default (``{}``: the proposal directory).
DEFAULT_ALIASES_FILE = "{}/usr/extra-data-aliases.yml"
log = logging.getLogger(__name__)
FileFilter = Callable[[list[str]], Sequence[str]]


def data_root_dir() -> Path:
    """The facility data root: ``$EXTRA_DATA_DATA_ROOT``, else ``/gpfs/exfel/exp``."""
    return Path(os.environ.get("EXTRA_DATA_DATA_ROOT") or DEFAULT_DATA_ROOT)


def _proposal_number(proposal: Any) -> int | None:
    """900001, np.int64(900001), '900001' or 'p900001' -> 900001; None for a path."""
    if isinstance(proposal, (int, np.integer)) and not isinstance(proposal, bool):
        return int(proposal)
    if isinstance(proposal, str) and "/" not in proposal:
        digits = proposal[1:] if proposal[:1] in ("p", "P") else proposal
        if digits.isdigit():
            return int(digits)
    return None


def _catalogued_run_paths(number: int) -> list[str]:
    """Paths of the runs the default catalogue knows for a proposal number."""
    from ..catalog.location import plain_sqlite_path
    from ..catalog.quickread import quick_catalog

    path = plain_sqlite_path(None)
    if path is not None:  # an SQLite file: read without SQLAlchemy
        quick = quick_catalog(path)
        if quick is None:
            return []  # no catalogue (yet)
        found = quick.run_paths(number)
        if found is not None:
            return found
    from ..catalog import list_runs
    from .details import shared_catalog

    catalog = shared_catalog(None)
    return [] if catalog is None else [run.info.path for run in list_runs(catalog, proposal=number)]


def _catalogued_proposal_dir(number: int, root: Path) -> Path | None:
    """The proposal directory the catalogue knows for *number* below *root*, if any."""
    try:
        paths = _catalogued_run_paths(number)
    except Exception:  # noqa: BLE001 - the catalogue only saves a glob
        return None
    name, under = f"p{number:06d}", os.path.join(root, "")
    tried = set()
    for path in paths:  # (string operations: this runs for every open_run)
        prop_dir = os.path.dirname(os.path.dirname(path))
        if prop_dir in tried:
            continue
        tried.add(prop_dir)
        if (os.path.basename(prop_dir) == name and prop_dir.startswith(under)
                and os.path.isdir(prop_dir)):
            return Path(prop_dir)
    return None


def find_proposal(propno: Any) -> str:
    """The directory of a proposal, from its number or name, or a path given as is.

    Parameters
    ----------
    propno : int, str or path
        ``900001``, ``'900001'``, ``'p900001'``, or a path (a string with
        ``/`` or an ``os.PathLike``), returned unchanged.

    Raises
    ------
    FileNotFoundError
        No directory ``<root>/*/*/p<NNNNNN>`` exists.
    """
    if isinstance(propno, os.PathLike):
        return os.fspath(propno)
    number = _proposal_number(propno)
    if number is None:
        if isinstance(propno, str):
            return propno
        raise TypeError(f"proposal must be a number, 'pNNNNNN' or a path, not {propno!r}")
    root = data_root_dir()
    found = _catalogued_proposal_dir(number, root)
    if found is not None:
        return str(found)
    for candidate in sorted(root.glob(f"*/*/p{number:06d}")):
        if candidate.is_dir():
            return str(candidate)
    raise FileNotFoundError(f"Couldn't find proposal dir for p{number:06d} in {root}; "
                            "set EXTRA_DATA_DATA_ROOT to the facility data root")


def _run_number(run: Any) -> int:
    if isinstance(run, (int, np.integer)) and not isinstance(run, bool):
        return int(run)
    if isinstance(run, str):
        digits = run[1:] if run[:1] in ("r", "R") else run
        if digits.isdigit():
            return int(digits)
    raise ValueError(f"run must be a number like 238, '238' or 'r0238', not {run!r}")


def _collection_class() -> Any:
    from .collection import DataCollection

    return DataCollection


def RunDirectory(path: str | os.PathLike, include: str = "*",
                 file_filter: FileFilter | None = None, *, inc_suspect_trains: bool = True,
                 parallelize: bool = True, _use_voview: bool = True,
                 catalog: object = DEFAULT_CATALOG) -> Any:
    """Open the data files of a run directory.

    Parameters
    ----------
    path : str or path
        The run directory.
    include : str
        Glob on file names (e.g. ``'*-DA*.h5'``).
    file_filter : callable, optional
        Takes the list of file paths and returns the ones to open.
    inc_suspect_trains : bool
        Keep trains flagged as suspect (default).
    parallelize : bool
        Accepted for compatibility; files not in the catalogue are read in
        this process (reading the metadata of one file takes milliseconds).
    catalog : Catalog, URL, None or ``'default'``
        Where to look up the run's metadata first (see
        :func:`~extra_catalog.reader.runfiles.open_run_files`).

    Returns
    -------
    DataCollection
        A single-run collection whose ``with`` block closes its files.

    Raises
    ------
    FileNotFoundError
        No such directory, or no file selected.
    """
    with gc_paused():
        opened = open_run_files(path, include, file_filter, catalog=catalog)
        known: dict[str, Any] = {}
        if opened.trains is not None:  # the catalogue's facts over exactly these files
            from ..fileaccess.codec import decode_array

            facts = opened.trains
            known = {"train_ids": decode_array(
                         facts.train_ids if inc_suspect_trains else facts.valid_train_ids),
                     "_disjoint": facts.disjoint}
        files = opened.files if opened.catalogued is None else opened.catalogued
        return _collection_class()(files, ctx_closes=True, is_single_run=True,
                                   inc_suspect_trains=inc_suspect_trains, **known)


def H5File(path: str | os.PathLike, *, inc_suspect_trains: bool = True) -> Any:
    """Open one EuXFEL HDF5 file as a single-run :class:`DataCollection`."""
    from ..fileaccess import FileAccess

    return _collection_class()([FileAccess.open_fresh(path)], ctx_closes=True,
                               is_single_run=True, inc_suspect_trains=inc_suspect_trains)


def _locations(data: str | Sequence[str]) -> tuple[list[str], bool]:
    """Data folders to combine, and whether the first may be missing silently."""
    if data == "default":
        return ["proc", "raw"], True
    if data == "all":
        return ["raw", "proc"], False
    if isinstance(data, str):
        return [data], False
    return list(data), False


def open_run(proposal: Any, run: Any, data: str | Sequence[str] = "default",
             include: str = "*", file_filter: FileFilter | None = None, *,
             inc_suspect_trains: bool = True, parallelize: bool = True,
             aliases: Any = DEFAULT_ALIASES_FILE, _use_voview: bool = True,
             catalog: object = DEFAULT_CATALOG) -> Any:
    """Open a run by proposal and run number.

    Parameters
    ----------
    proposal : int, str or path
        ``900001``, ``'p900001'`` or the proposal directory.
    run : int or str
        ``3``, ``'3'`` or ``'r0003'``.
    data : str or sequence of str
        ``'raw'``, ``'proc'``, another folder, or several: later locations
        replace the same-named sources of earlier ones and add new ones.
        ``'default'`` is ``['proc', 'raw']`` with proc allowed to be absent;
        ``'all'`` is ``['raw', 'proc']``.
    include, file_filter, inc_suspect_trains, parallelize, catalog
        As for :func:`RunDirectory`.
    aliases : str, path or None
        Alias file to load (see :meth:`DataCollection.with_aliases`); ``{}``
        in a string stands for the proposal directory. The default,
        ``{}/usr/extra-data-aliases.yml``, is created from
        ``$EXTRA_DATA_SW_ROOT/<INSTRUMENT>/extra-data-aliases-default.yml``
        when missing and skipped when neither exists.

    Returns
    -------
    DataCollection
    """
    prop_dir = Path(find_proposal(proposal))
    run_dir_name = f"r{_run_number(run):04d}"
    locations, first_optional = _locations(data)
    combined = None
    for i, origin in enumerate(locations):
        try:
            dc = RunDirectory(prop_dir / origin / run_dir_name, include, file_filter,
                              inc_suspect_trains=inc_suspect_trains, catalog=catalog)
        except FileNotFoundError:
            if i == 0 and not first_optional:
                raise
            if i > 0:
                warnings.warn(f"No data available for this run at origin {origin}",
                              stacklevel=2)
            continue
        combined = dc if combined is None else _overlay(combined, dc)
    if combined is None:
        raise FileNotFoundError(f"No data found for run {run_dir_name} in {prop_dir} "
                                f"(looked in {', '.join(locations)})")
    alias_file = alias_file_for(aliases, prop_dir)
    if alias_file is not None:
        combined = combined.with_aliases(alias_file)
        log.info("Loaded %d aliases from %s", len(combined._aliases), alias_file)
    return combined


def _overlay(base: Any, new: Any) -> Any:
    """Sources of *new* replace same-named ones of *base*; the result is one run."""
    shared = sorted(base.all_sources & new.all_sources)
    if shared:
        base = base.deselect([(src, "*") for src in shared])
    merged = base.union(new)
    merged.is_single_run = True
    return merged


def sw_root_dir() -> Path:
    """The facility software root: ``$EXTRA_DATA_SW_ROOT``, else ``/gpfs/exfel/sw``."""
    return Path(os.environ.get("EXTRA_DATA_SW_ROOT") or DEFAULT_SW_ROOT)


def _bootstrap_alias_file(target: Path, prop_dir: Path) -> None:
    """Copy the instrument's alias template to a proposal's default alias file.

    Failures are logged, never raised: aliases are a convenience.
    """
    template = sw_root_dir() / prop_dir.parts[-3] / "extra-data-aliases-default.yml"
    if not os.path.isfile(template):  # False, not an error, without permission
        return
    try:
        shutil.copyfile(template, target)
    except OSError as err:
        log.warning("Could not copy alias template %s to %s: %s", template, target, err)
        return
    try:
        target.chmod(0o666)  # the proposal's members edit it together
    except OSError:
        log.warning("Could not make %s writable for everyone", target)
    log.info("Copied default alias template from %s to %s", template, target)


def alias_file_for(aliases: Any, prop_dir: Path) -> Path | None:
    """The alias file ``open_run(aliases=...)`` loads, or None.

    A string is formatted with the proposal directory. The default file
    ``<proposal>/usr/extra-data-aliases.yml`` is made from the instrument's
    template under ``$EXTRA_DATA_SW_ROOT`` when missing, and skipped when
    there is neither.
    """
    if aliases is None:
        return None
    path = Path(aliases.format(prop_dir)) if isinstance(aliases, str) else Path(aliases)
    default = Path(DEFAULT_ALIASES_FILE.format(prop_dir))
    if path == default and not default.is_file():
        _bootstrap_alias_file(default, prop_dir)
        if not default.is_file():
            return None
    return path
