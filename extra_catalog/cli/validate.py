"""``extra-data-validate``: check EuXFEL files and runs for format problems.

Exit status: 0 no problems, 1 problems found (or an unknown ``--skip``
name), 2 usage errors, as EXtra-data's command.
"""

from __future__ import annotations

import os
import sys

import click

from ._options import catalog_option


def _list_checks() -> None:
    from ..validation import ALL_CHECKS

    click.echo("Available checks:")
    for name in ALL_CHECKS:
        click.echo(f"  {name}")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("path", required=False, type=click.Path())
@click.option("--skip", "skip", multiple=True, metavar="CHECK",
              help="Do not run this check (repeatable; see --list).")
@click.option("-l", "--list", "list_checks", is_flag=True, help="List the checks and exit.")
@click.option("--recheck", is_flag=True,
              help="Read the files even if the run is catalogued and unchanged.")
@catalog_option
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes [default: number of CPUs].")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0,
              show_default=True, help="Seconds one file may take before it is reported "
                                      "as hanging.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr [default: only on a terminal].")
def validate(path: str | None, skip: tuple[str, ...], list_checks: bool, recheck: bool,
             catalog: str | None, jobs: int | None, timeout: float,
             progress: bool | None) -> None:
    """Check the EuXFEL file or run directory PATH for format problems.

    Each problem is reported with its file, source, dataset and train. A
    catalogued run whose files are unchanged is answered from the problems
    the crawler stored, without reading a file; --recheck reads them.

    \b
    Examples:
        extra-data-validate /gpfs/exfel/exp/SPB/202601/p900001/raw/r0001
        extra-data-validate RAW-R0001-DA01-S00000.h5 --skip control_timestamps_order
    """
    from ..validation import ALL_CHECKS

    if list_checks:
        _list_checks()
        return
    if path is None:
        raise click.UsageError("give a file or run directory (or --list)")
    unknown = [name for name in skip if name not in ALL_CHECKS]
    if unknown:
        click.echo(f"Unknown names passed to --skip: {', '.join(unknown)}")
        sys.exit(1)
    from ..validation.problems import format_problem, format_report

    unopened = False
    if os.path.isdir(path):
        problems = _check_run(path, skip, recheck, catalog, jobs, timeout, progress)
    else:
        click.echo(f"Checking file: {path}\n")
        problems = _check_file(path, skip, timeout)
        unopened = any(p["check"] in ("file_access", "file_open") for p in problems)
    if unopened:
        click.echo(format_problem(problems[0]))  # as EXtra-data: no header for an unopened file
    else:
        click.echo(format_report(problems))
    sys.exit(1 if problems else 0)


def _check_file(path: str, skip: tuple[str, ...], timeout: float) -> list[dict]:
    from ..validation.problems import problem_dict
    from ..validation.runner import check_files

    (outcome,) = check_files([os.path.abspath(path)], skip, processes=1, timeout=timeout)
    return [problem_dict(path, p) for p in outcome.problems]


def _check_run(path: str, skip: tuple[str, ...], recheck: bool, catalog: str | None,
               jobs: int | None, timeout: float, progress: bool | None) -> list[dict]:
    from ..validation import RunValidator

    click.echo(f"Checking run directory: {path}\n")
    if not recheck:
        stored = _stored_answer(path, skip, catalog)
        if stored is not None:
            return stored
    show = sys.stderr.isatty() if progress is None else progress
    validator = RunValidator(path, term_progress=False, skip_checks=skip, processes=jobs,
                             timeout=timeout, catalog=catalog)
    if show:
        from ..validation.runner import TerminalProgress

        validator.progress = TerminalProgress(True)
    return validator.run_checks()


def _stored_answer(path: str, skip: tuple[str, ...], url: str | None) -> list[dict] | None:
    """The crawler's stored problems if the run is catalogued and unchanged, else None."""
    from ..catalog import open_catalog
    from ..exceptions import ExtraCatalogError
    from ..validation.catalogued import (catalogued_run, is_unchanged, open_default_catalog,
                                         stored_problems)

    try:
        cat = open_default_catalog() if url is None else open_catalog(url)
    except ExtraCatalogError as exc:
        click.echo(f"(catalogue not used: {exc})", err=True)
        return None
    if cat is None:
        return None
    with cat:
        run = catalogued_run(cat, path)
        if run is None or not is_unchanged(os.path.abspath(path), run):
            return None
    when = run.indexed_at.strftime("%Y-%m-%d %H:%M UTC") if run.indexed_at else "?"
    click.echo(f"(answered from the catalogue: files unchanged since they were checked on "
               f"{when}; --recheck reads them again)\n")
    return stored_problems(run, skip)


def run(argv: list[str] | None = None) -> int:
    """Run ``extra-data-validate`` with *argv*; return its exit status instead of exiting."""
    try:
        validate.main(args=argv, prog_name="extra-data-validate", standalone_mode=False)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return 0


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``extra-data-validate``."""
    validate.main(args=argv, prog_name="extra-data-validate")
