"""Opening a catalogue checks its revision without importing Alembic, and agrees with Alembic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from extra_catalog.catalog.schema import _head_from_scripts, _script_directory, find_migrations


def test_the_head_read_from_the_scripts_is_alembics():
    assert _head_from_scripts(find_migrations()) == _script_directory().get_current_head()


def _scripts(folder: Path, chain: dict[str, str]) -> Path:
    (folder / "versions").mkdir(parents=True)
    for name, body in chain.items():
        (folder / "versions" / f"{name}.py").write_text(f'"""{name}"""\n{body}\n')
    return folder


@pytest.mark.parametrize("chain, head", [
    ({"a": 'revision: str = "a"\ndown_revision: str | None = None',
      "b": "revision = 'b'\ndown_revision = 'a'"}, "b"),
    # A merge, two heads, a script without its lines: Alembic decides.
    ({"a": 'revision = "a"\ndown_revision = None',
      "b": 'revision = "b"\ndown_revision = ("a", "c")'}, None),
    ({"a": 'revision = "a"\ndown_revision = None',
      "b": 'revision = "b"\ndown_revision = None'}, None),
    ({"a": 'revision = "a"\ndown_revision = None', "b": "x = 1"}, None),
])
def test_only_a_plain_chain_is_read_without_alembic(tmp_path, chain, head):
    assert _head_from_scripts(_scripts(tmp_path, chain)) == head


def test_opening_a_catalogue_imports_no_alembic(catalog_url):
    code = ("import sys\nfrom extra_catalog.catalog import open_catalog\n"
            f"open_catalog({catalog_url!r}).close()\nprint('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

