"""The console scripts: each is declared, importable, and honest about what it can do."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]

EXTRA_DATA_COMMANDS = {
    "lsxfel", "extra-data-validate", "karabo-bridge-serve-run", "karabo-bridge-serve-files",
    "extra-data-make-virtual-cxi", "extra-data-locality", "extra-data-readable",
}


def _entry_point(name: str):
    module, func = SCRIPTS[name].split(":")
    return getattr(importlib.import_module(module), func)


def test_every_extra_data_command_name_is_declared():
    assert EXTRA_DATA_COMMANDS | {"xfel-index"} <= set(SCRIPTS)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_entry_point_resolves_to_a_callable(name):
    assert callable(_entry_point(name))


def test_cli_import_does_not_load_heavy_libraries():
    code = (
        "import sys, extra_catalog.cli.xfel_index, extra_catalog.cli.lsxfel, "
        "extra_catalog.cli.make_virtual_cxi\n"
        "heavy = [m for m in ('h5py', 'pandas', 'xarray', 'zmq', 'sqlalchemy', 'numpy') "
        "if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_xfel_index_help_lists_an_example():
    from click.testing import CliRunner

    from extra_catalog.cli.xfel_index import cli

    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "Example" in result.output


def test_top_level_names_are_importable_lazily():
    code = (
        "import sys, extra_catalog\n"
        "assert 'h5py' not in sys.modules\n"
        "from extra_catalog import FileAccess, by_id, by_index, SourceNameError\n"
        "print(repr(by_id[4::2, 7]), repr(by_index[...]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["by_id[4::2,", "7]", "by_index[...]"]
