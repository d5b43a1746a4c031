"""Which catalogue is used: argument, EXTRA_CATALOG_URL, or the per-user default."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from extra_catalog.catalog import default_catalog_path, resolve_url
from extra_catalog.exceptions import CatalogConnectionError


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    monkeypatch.delenv("EXTRA_CATALOG_URL", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


def test_default_is_under_local_share(clean_env, tmp_path):
    expected = tmp_path / "home" / ".local" / "share" / "extra_catalog" / "catalog.sqlite"
    assert default_catalog_path() == expected
    assert resolve_url() == f"sqlite:///{expected}"


def test_xdg_data_home_moves_the_default(clean_env, tmp_path):
    clean_env.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert resolve_url() == f"sqlite:///{tmp_path / 'data' / 'extra_catalog' / 'catalog.sqlite'}"


@pytest.mark.parametrize("value", ["", "relative/dir"])
def test_empty_or_relative_xdg_data_home_is_ignored(clean_env, tmp_path, value):
    clean_env.setenv("XDG_DATA_HOME", value)
    assert default_catalog_path() == (
        tmp_path / "home" / ".local" / "share" / "extra_catalog" / "catalog.sqlite")


def test_environment_beats_default_and_argument_beats_environment(clean_env, tmp_path):
    clean_env.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    clean_env.setenv("EXTRA_CATALOG_URL", "postgresql+psycopg://me@db/cat")
    assert resolve_url() == "postgresql+psycopg://me@db/cat"
    assert resolve_url("sqlite:////x/y.sqlite") == "sqlite:////x/y.sqlite"


def test_plain_paths_mean_sqlite_files(clean_env, tmp_path):
    clean_env.chdir(tmp_path)
    assert resolve_url("cat.sqlite") == f"sqlite:///{tmp_path / 'cat.sqlite'}"
    assert resolve_url(Path("~/c.sqlite")) == f"sqlite:///{tmp_path / 'home' / 'c.sqlite'}"


def test_postgresql_without_driver_uses_psycopg3(clean_env):
    assert resolve_url("postgresql://me@db:5433/cat") == "postgresql+psycopg://me@db:5433/cat"


def test_unparseable_url(clean_env):
    with pytest.raises(CatalogConnectionError, match="not a catalogue URL"):
        resolve_url("postgresql://me@db:notaport/cat")


def test_catalogue_imports_neither_h5py_nor_numpy():
    import subprocess
    import sys

    code = ("import sys, extra_catalog.catalog, extra_catalog.catalog.store, "
            "extra_catalog.catalog.schema; "
            "print(sorted(m for m in ('h5py', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("given", [
    "cat.sqlite", "~/cat.sqlite", "/abs/dir/cat.sqlite", "sqlite:///rel/cat.sqlite",
    "sqlite:////abs/dir/cat.sqlite"])
def test_the_plain_sqlite_path_is_the_file_sqlalchemy_opens(given, clean_env):
    from extra_catalog.catalog.engine import sqlite_file
    from extra_catalog.catalog.location import plain_sqlite_path

    assert plain_sqlite_path(given) == Path(os.path.abspath(sqlite_file(resolve_url(given))))


@pytest.mark.parametrize("given", [
    "postgresql://me@db/cat", "sqlite://", "sqlite:///:memory:",
    "sqlite:///cat.sqlite?mode=ro", "sqlite:///file:cat.sqlite?uri=true"])
def test_anything_but_a_plain_sqlite_file_is_left_to_sqlalchemy(given, clean_env):
    from extra_catalog.catalog.location import plain_sqlite_path

    assert plain_sqlite_path(given) is None


def test_the_plain_sqlite_path_follows_the_environment(clean_env, monkeypatch, tmp_path):
    from extra_catalog.catalog.location import plain_sqlite_path

    assert plain_sqlite_path(None) == default_catalog_path()
    monkeypatch.setenv("EXTRA_CATALOG_URL", str(tmp_path / "env.sqlite"))
    assert plain_sqlite_path(None) == tmp_path / "env.sqlite"
