"""Where the catalogue is, decided without SQLAlchemy.

:func:`default_catalog_path` and :data:`ENV_URL` are re-exported by
:mod:`.engine`; :func:`plain_sqlite_path` lets the reading path find an
SQLite catalogue file without importing SQLAlchemy.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ENV_URL", "default_catalog_path", "plain_sqlite_path"]

#: Environment variable naming the catalogue URL.
ENV_URL = "EXTRA_CATALOG_URL"


def default_catalog_path() -> Path:
    """Return the per-user default catalogue file.

    ``$XDG_DATA_HOME/extra_catalog/catalog.sqlite``; per the XDG base directory
    specification, an unset, empty or relative ``XDG_DATA_HOME`` means
    ``~/.local/share``.
    """
    data_home = os.environ.get("XDG_DATA_HOME", "")
    if not data_home or not os.path.isabs(data_home):
        data_home = os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(data_home) / "extra_catalog" / "catalog.sqlite"


def plain_sqlite_path(url: str | os.PathLike[str] | None = None) -> Path | None:
    """The SQLite file a catalogue URL names, when that is plain to see.

    Parameters
    ----------
    url : str or path, optional
        As for :func:`~extra_catalog.catalog.engine.resolve_url` (None:
        ``$EXTRA_CATALOG_URL``, else the per-user default file).

    Returns
    -------
    Path or None
        The absolute file of a path or a bare ``sqlite:///PATH`` URL; None
        for anything else (another database, query options, in-memory),
        which only SQLAlchemy should interpret.
    """
    if url is None or str(url) == "":
        url = os.environ.get(ENV_URL) or default_catalog_path()
    text = os.fspath(url)
    if "://" not in text:
        return Path(os.path.abspath(os.path.expanduser(text)))
    prefix = "sqlite:///"
    if not text.startswith(prefix):
        return None
    database = text[len(prefix):]
    if not database or "?" in database or database.startswith(("file:", ":memory:")):
        return None
    return Path(database if os.path.isabs(database) else os.path.abspath(database))
