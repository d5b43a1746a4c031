"""Schema revisions: create, upgrade and check a catalogue with Alembic.

The migrations live in the top-level ``migrations/`` folder of the source
tree; a wheel ships them as ``extra_catalog/_migrations``. Both places are
searched, so installed and editable copies work alike.

Opening a catalogue (:func:`open_catalog`) compares its Alembic revision with
the newest one this code knows, and refuses a mismatch with a message that
names the command fixing it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:  # Alembic is imported where migrations run: opening needs none of it
    from alembic.config import Config
    from alembic.script import ScriptDirectory

from ..exceptions import CatalogConnectionError, CatalogError, CatalogRevisionError, NotACatalogError
from .engine import BUSY_TIMEOUT, Catalog, create_catalog_engine, display_url, resolve_url, sqlite_file

__all__ = [
    "find_migrations",
    "alembic_config",
    "head_revision",
    "catalog_revision",
    "check_revision",
    "open_catalog",
    "init_catalog",
    "upgrade_catalog",
    "CatalogStatus",
    "catalog_status",
]


def find_migrations(package_dir: Path | None = None) -> Path:
    """Return the folder holding the Alembic ``env.py`` of the catalogue.

    Parameters
    ----------
    package_dir : Path, optional
        The ``extra_catalog`` package folder (default: this installation's).
        ``<package_dir>/_migrations`` (wheel) is tried before
        ``<package_dir>/../migrations`` (source tree, editable install).

    Raises
    ------
    CatalogError
        Neither folder exists: the installation is broken.
    """
    if package_dir is None:
        package_dir = Path(__file__).resolve().parent.parent
    candidates = [package_dir / "_migrations", package_dir.parent / "migrations"]
    for folder in candidates:
        if (folder / "env.py").is_file():
            return folder
    looked = ", ".join(str(c) for c in candidates)
    raise CatalogError(
        f"the catalogue migrations are missing (looked in {looked}): "
        "reinstall extra_catalog")


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    """Return an Alembic configuration for the catalogue at *url*.

    Parameters
    ----------
    url : str
        Resolved catalogue URL.
    connection : sqlalchemy.Connection, optional
        A connection ``env.py`` runs the migrations on (else it connects).
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(find_migrations()))
    # ConfigParser interpolates '%': URL-escaped passwords contain it.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def _script_directory() -> ScriptDirectory:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(find_migrations()))
    return ScriptDirectory.from_config(config)


def head_revision() -> str:
    """Return the newest schema revision this extra_catalog knows."""
    # Finding it compiles every migration script (~20 ms); the scripts are
    # part of the installed package, so once per process is enough.
    head = _HEAD.get(find_migrations())
    if head is None:
        head = _head_from_scripts(find_migrations()) or _script_directory().get_current_head()
        if head is None:
            raise CatalogError(
                f"no migrations found in {find_migrations()}: reinstall extra_catalog")
        _HEAD[find_migrations()] = head
    return head


_HEAD: dict[Path, str] = {}
_REVISION_LINE = re.compile(
    r"""^(down_)?revision\s*(?::[^=\n]*)?=\s*(?:["']([^"'\n]+)["']|None)\s*$""", re.M)


def _head_from_scripts(folder: Path) -> str | None:
    """The head revision read from the scripts' ``revision``/``down_revision`` lines.

    Spares importing Alembic (~0.2 s) when opening a catalogue. None for
    anything but a plain chain of scripts (a merge, an unreadable script):
    Alembic decides then.
    """
    revisions, parents = set(), set()
    for script in (folder / "versions").glob("*.py"):
        found = {bool(m.group(1)): m.group(2)
                 for m in _REVISION_LINE.finditer(script.read_text(encoding="utf-8"))}
        if set(found) != {False, True} or found[False] is None:
            return None
        revisions.add(found[False])
        if found[True] is not None:
            parents.add(found[True])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


def catalog_revision(connection: Connection) -> str | None:
    """Return the schema revision stored in a database (None if it has none)."""
    # Alembic keeps it in the one row of alembic_version: read directly, so
    # that opening a catalogue does not import Alembic.
    if not inspect(connection).has_table("alembic_version"):
        return None
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(rows) == 1:
        return str(rows[0])
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _is_known(revision: str) -> bool:
    from alembic.util import CommandError

    try:
        return _script_directory().get_revision(revision) is not None
    except CommandError:
        return False


def check_revision(connection: Connection, url: str) -> str:
    """Check that the database at *url* is a catalogue at the head revision.

    Returns
    -------
    str
        The revision.

    Raises
    ------
    NotACatalogError
        The database is empty or holds something else.
    CatalogRevisionError
        The catalogue is older (run ``xfel-index upgrade``) or newer (made
        by a newer extra_catalog) than this code.
    """
    shown = display_url(url)
    found = catalog_revision(connection)
    expected = head_revision()
    if found == expected:
        return found
    if found is None:
        tables = inspect(connection).get_table_names()
        if not tables:
            raise NotACatalogError(
                f"{shown} holds no catalogue yet: run `xfel-index init {shown}`")
        raise NotACatalogError(
            f"{shown} is not an extra_catalog catalogue (it has tables such as "
            f"{sorted(tables)[0]!r} but no schema revision): give another URL with "
            "--catalog or EXTRA_CATALOG_URL")
    if _is_known(found):
        raise CatalogRevisionError(
            f"catalogue at {shown} is at revision {found}, this extra_catalog expects "
            f"{expected}: run `xfel-index upgrade {shown}`", shown, found, expected)
    raise CatalogRevisionError(
        f"catalogue at {shown} is at revision {found}, which this extra_catalog "
        f"(expecting {expected}) does not know: it was upgraded by a newer "
        "extra_catalog; install that version (pip install -U extra_catalog)",
        shown, found, expected)


def open_catalog(url: str | os.PathLike[str] | None = None, *,
                 busy_timeout: float = BUSY_TIMEOUT) -> Catalog:
    """Open an existing catalogue after checking its schema revision.

    Parameters
    ----------
    url : str or path, optional
        Catalogue URL or SQLite file; default from ``EXTRA_CATALOG_URL`` or
        the per-user file (see :func:`~extra_catalog.catalog.engine.resolve_url`).
    busy_timeout : float
        Seconds an SQLite writer waits for another writer.

    Raises
    ------
    CatalogConnectionError, NotACatalogError, CatalogRevisionError
        Each message names the fix.
    """
    resolved = resolve_url(url)
    path = sqlite_file(resolved)
    if path is not None and not path.exists():
        shown = display_url(resolved)
        raise CatalogConnectionError(
            f"no catalogue at {shown} (the file does not exist): create it with "
            f"`xfel-index init {shown}`, or give another with --catalog or EXTRA_CATALOG_URL")
    catalog = Catalog(resolved, create_catalog_engine(resolved, busy_timeout=busy_timeout))
    try:
        with catalog.translate_errors(), catalog.engine.connect() as connection:
            check_revision(connection, resolved)
    except BaseException:
        catalog.close()
        raise
    return catalog


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    """Yield a connection in a transaction, with SQLite foreign keys off.

    Batch migrations rebuild SQLite tables by copying and dropping them;
    with foreign keys enforced, dropping a table would cascade deletes into
    the tables referring to it. The pragma only works outside a
    transaction, hence on the raw connection before BEGIN; integrity is
    checked before committing.
    """
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        if sqlite:
            raw.execute("PRAGMA foreign_keys = OFF")
        try:
            with connection.begin():
                yield connection
                if sqlite and connection.execute(text("PRAGMA foreign_key_check")).first():
                    raise CatalogError("migration broke foreign keys; nothing was changed")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys = ON")


def _migrate(url: str, revision: str, *, create: bool) -> tuple[str | None, str]:
    """Run the migrations up to *revision*; return (revision before, after)."""
    path = sqlite_file(url)
    shown = display_url(url)
    if path is not None:
        if not create and not path.exists():
            raise CatalogConnectionError(
                f"no catalogue at {shown}: create it with `xfel-index init {shown}`")
        path.parent.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(url, create_catalog_engine(url))
    try:
        with catalog.translate_errors(), _migration_connection(catalog.engine) as connection:
            before = _check_migratable(connection, url, create=create)
            from alembic import command

            command.upgrade(alembic_config(url, connection), revision)
            after = catalog_revision(connection)
    finally:
        catalog.close()
    assert after is not None
    return before, after


def _check_migratable(connection: Connection, url: str, *, create: bool) -> str | None:
    shown = display_url(url)
    found = catalog_revision(connection)
    if found is None:
        if inspect(connection).get_table_names():
            raise NotACatalogError(
                f"{shown} is not an extra_catalog catalogue (it has tables but no schema "
                "revision): give another URL with --catalog or EXTRA_CATALOG_URL")
        if not create:
            raise NotACatalogError(
                f"{shown} holds no catalogue yet: run `xfel-index init {shown}`")
    elif not _is_known(found):
        check_revision(connection, url)  # raises the "newer extra_catalog" error
    elif create and found != head_revision():
        check_revision(connection, url)  # raises the "run upgrade" error
    return found


def init_catalog(url: str | os.PathLike[str] | None = None, revision: str = "head") -> str:
    """Create a catalogue at the newest revision (nothing to do if it exists).

    Parameters
    ----------
    url : str or path, optional
        As for :func:`open_catalog`; parent folders of an SQLite file are made.
    revision : str
        Schema revision to create (an older one only makes sense in tests of
        upgrades).

    Returns
    -------
    str
        The resolved URL.
    """
    resolved = resolve_url(url)
    _migrate(resolved, revision, create=True)
    return resolved


def upgrade_catalog(url: str | os.PathLike[str] | None = None,
                    revision: str = "head") -> tuple[str | None, str]:
    """Upgrade an existing catalogue to *revision* (default: the newest).

    Returns
    -------
    (str, str)
        The revisions before and after.
    """
    return _migrate(resolve_url(url), revision, create=False)


@dataclass(frozen=True)
class CatalogStatus:
    """What ``xfel-index status`` reports about a catalogue.

    Attributes
    ----------
    url : str
        The catalogue (password hidden).
    revision, expected : str or None, str
        Schema revision found and the one this code expects.
    counts : tuple of (str, int) pairs
        Rows per table (proposals, runs, files), only when up to date.
    """

    url: str
    revision: str | None
    expected: str
    counts: tuple[tuple[str, int], ...] = ()

    @property
    def up_to_date(self) -> bool:
        """True if the catalogue can be used by this extra_catalog as it is."""
        return self.revision == self.expected


def catalog_status(url: str | os.PathLike[str] | None = None) -> CatalogStatus:
    """Describe a catalogue without requiring it to be up to date.

    Raises
    ------
    CatalogConnectionError, NotACatalogError
        Not reachable, or not a catalogue.
    """
    resolved = resolve_url(url)
    try:
        catalog = open_catalog(resolved)
    except CatalogRevisionError as exc:
        return CatalogStatus(exc.url, exc.found, exc.expected)
    with catalog:
        with catalog.session_scope() as session:
            counts = tuple(
                (table, session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
                for table in ("proposals", "runs", "files"))
        return CatalogStatus(display_url(resolved), head_revision(), head_revision(), counts)
