"""`xfel-index init`, `upgrade` and `status` through click's CliRunner."""

from __future__ import annotations

from click.testing import CliRunner

from extra_catalog.catalog import head_revision, init_catalog, open_catalog
from extra_catalog.cli.xfel_index import cli


def _run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def test_init_then_status_then_upgrade(empty_catalog_url):
    result = _run("init", empty_catalog_url)
    assert result.exit_code == 0, result.output
    assert f"revision {head_revision()}" in result.output
    open_catalog(empty_catalog_url).close()
    status = _run("status", empty_catalog_url)
    assert status.exit_code == 0 and "0 proposals, 0 runs, 0 files" in status.output
    again = _run("upgrade", empty_catalog_url)
    assert again.exit_code == 0 and "already at revision" in again.output


def test_upgrade_of_an_old_catalogue(empty_catalog_url):
    init_catalog(empty_catalog_url, revision="0001")
    status = _run("status", empty_catalog_url)
    assert status.exit_code == 1
    assert "revision:  0001" in status.output and "xfel-index upgrade" in status.output
    result = _run("upgrade", empty_catalog_url)
    assert result.exit_code == 0, result.output
    assert f"from revision 0001 to {head_revision()}" in result.output
    open_catalog(empty_catalog_url).close()


def test_init_uses_the_environment_default(tmp_path):
    env = {"EXTRA_CATALOG_URL": "", "XDG_DATA_HOME": str(tmp_path / "xdg")}
    result = _run("init", env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "xdg" / "extra_catalog" / "catalog.sqlite").is_file()
    target = tmp_path / "env.sqlite"
    assert _run("init", env={"EXTRA_CATALOG_URL": str(target)}).exit_code == 0
    assert target.is_file()


def test_errors_are_one_line_with_the_fix(tmp_path):
    missing = tmp_path / "missing.sqlite"
    for command in ("upgrade", "status"):
        result = _run(command, str(missing))
        assert result.exit_code == 2
        assert "xfel-index init" in result.output and "Traceback" not in result.output
