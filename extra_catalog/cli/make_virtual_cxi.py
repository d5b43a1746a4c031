"""``extra-data-make-virtual-cxi``: a virtual CXI file for a run's multi-module detector.

As EXtra-data's command: ``RUN_DIR`` (or the older ``PROPOSAL_DIR RUN``, which
reads ``<proposal>/proc/r<RUN>``), ``-o`` (default: the proposal's ``scratch``
folder), ``--min-modules`` (default: half the detector's modules plus one),
``--n-modules`` (JUNGFRAU), ``--fill-value DS V`` and ``--exc-suspect-trains``.
Exit status 1 with an ``ERROR:`` line for unreadable input, an unwritable
output folder, or data that cannot be combined.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import Any

import click

__all__ = ["main", "parse_number", "default_output"]

log = logging.getLogger(__name__)


def parse_number(text: str) -> float | int:
    """A fill value: a float (``nan`` too), else an integer (``0xffffffff`` too)."""
    try:
        return float(text)
    except ValueError:
        return int(text, 0)


def default_output(run_dir: str) -> str | None:
    """``<proposal>/scratch/r0123_proc_detectors_virt.cxi`` for ``.../proc/r0123``."""
    m = re.search(r"/(raw|proc)/(r\d{4})/?$", run_dir)
    if m is None:
        return None
    return os.path.join(run_dir[:m.start()], "scratch",
                        f"{m.group(2)}_{m.group(1)}_detectors_virt.cxi")


def _input_and_output(run_dir: str, run_number: str | None,
                      output: str | None) -> tuple[str, str]:
    if run_number is not None:  # the older form: proposal directory and run number
        run = f"r{int(run_number):04d}"
        return (os.path.join(run_dir, "proc", run),
                output or os.path.join(run_dir, "scratch", f"{run}_detectors_virt.cxi"))
    run_dir = os.path.abspath(run_dir)
    output = output or default_output(run_dir)
    if output is None:
        sys.exit("ERROR: '-o outfile' option needed when input directory doesn't look like "
                 ".../proc/r0123")
    return run_dir, output


def _fill_values(pairs: tuple[tuple[str, str], ...]) -> dict[str, Any] | None:
    try:
        return {name: parse_number(value) for name, value in pairs} or None
    except ValueError as err:
        raise click.BadParameter(f"fill values are numbers ({err})",
                                 param_hint="--fill-value") from None


@click.command(context_settings={"help_option_names": ["-h", "--help"]},
               epilog="Example:\n\n  extra-data-make-virtual-cxi -o ./out_file.h5 "
                      "--min-modules 15 --fill-value data 0 --fill-value gain 1 "
                      "/path/to/source/run")
@click.argument("run_dir")
@click.argument("run_number", required=False)
@click.option("-o", "--output", help="Filename or path for the CXI output file. By default, "
                                     "it is written in the proposal's scratch directory.")
@click.option("--min-modules", type=int, metavar="N",
              help="Include trains where at least N modules have data (default: half+1 of "
                   "all detector modules).")
@click.option("--n-modules", type=int, metavar="N",
              help="Number of detector modules in the experiment setup. Should be used only "
                   "for JUNGFRAU data.")
@click.option("--fill-value", nargs=2, multiple=True, metavar="DS V",
              help="Fill value V for dataset DS (data, gain or mask) where there is no data "
                   "(defaults: data: nan (proc, float32) or 0 (raw, uint16); gain: 0; mask: "
                   "0xffffffff).")
@click.option("--exc-suspect-trains", is_flag=True,
              help="Exclude suspect trains. This tries to avoid some issues with incorrect "
                   "train IDs in the data, but may mean less data is available.")
def make_virtual_cxi(run_dir: str, run_number: str | None, output: str | None,
                     min_modules: int | None, n_modules: int | None,
                     fill_value: tuple[tuple[str, str], ...], exc_suspect_trains: bool) -> None:
    """Write a virtual CXI file to access the detector data of a run."""
    from ..components import identify_multimod_detectors
    from ..exceptions import ExtraCatalogError
    from ..reader.opening import RunDirectory

    fills = _fill_values(fill_value)
    logging.basicConfig(level=logging.INFO)
    run_dir, output = _input_and_output(run_dir, run_number, output)
    out_dir = os.path.dirname(os.path.abspath(output))
    if not os.access(run_dir, os.R_OK):
        sys.exit(f"ERROR: Don't have read access to {run_dir}")
    if not os.access(out_dir, os.W_OK):
        sys.exit(f"ERROR: Don't have write access to {out_dir}")
    log.info("Reading run directory %s", run_dir)
    try:
        run = RunDirectory(run_dir, inc_suspect_trains=not exc_suspect_trains)
        _, det_class = identify_multimod_detectors(run, single=True)
        kwargs: dict[str, Any] = {}
        known = det_class.n_modules or None
        if not known:
            known = kwargs["n_modules"] = n_modules
        if min_modules is None:
            min_modules = 1 if known is None else known // 2 + 1
        det_class(run, min_modules=min_modules, **kwargs).write_virtual_cxi(output, fills)
    except (ExtraCatalogError, OSError, ValueError) as err:
        sys.exit(f"ERROR: {err}")
    log.info("Wrote %s", output)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``extra-data-make-virtual-cxi``."""
    make_virtual_cxi.main(args=argv, prog_name="extra-data-make-virtual-cxi")
