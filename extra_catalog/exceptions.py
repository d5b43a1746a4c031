"""Exceptions raised by extra_catalog.

The names and base classes of the EXtra-data exceptions are kept
(``SourceNameError`` is a ``KeyError``, ``MultiRunError`` a ``ValueError``
and so on), so code catching them keeps working after switching imports.
Every exception raised by this package also derives from
:class:`ExtraCatalogError`, so a caller can catch all of them at once.
"""

from __future__ import annotations

import os

__all__ = [
    "ExtraCatalogError",
    "SourceNameError",
    "PropertyNameError",
    "TrainIDError",
    "AliasError",
    "MultiRunError",
    "NoDataError",
    "FileStructureError",
    "DataFileError",
    "DataFileNotFoundError",
    "DataFilePermissionError",
    "CorruptFileError",
    "DataFileTimeoutError",
    "CatalogError",
    "NotImplementedYetError",
]


class ExtraCatalogError(Exception):
    """Base class of every exception raised by extra_catalog."""


class _MessageKeyError(ExtraCatalogError, KeyError):
    """A KeyError whose ``str()`` is the plain message, not its repr."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class SourceNameError(_MessageKeyError):
    """The data has no source with the requested name."""

    def __init__(self, source: str | None = None, custom_message: str | None = None):
        self.source = source
        if custom_message is None:
            custom_message = (
                f"This data has no source named {source!r}.\n"
                "See data.all_sources for available sources."
            )
        super().__init__(custom_message)


class PropertyNameError(_MessageKeyError):
    """The source has no key (property) with the requested name."""

    def __init__(self, prop: str, source: str):
        self.prop = prop
        self.source = source
        super().__init__(f"No property {prop!r} for source {source!r}")


class TrainIDError(_MessageKeyError):
    """The requested train ID is not in the selection."""

    def __init__(self, train_id: int):
        self.train_id = train_id
        super().__init__(f"Train ID {train_id} not found in this data")


class AliasError(_MessageKeyError):
    """The requested alias is not defined."""

    def __init__(self, alias: str):
        self.alias = alias
        super().__init__(f"'{alias}' not known as alias for this data")


class MultiRunError(ExtraCatalogError, ValueError):
    """Run-specific information was requested from data of several runs."""

    def __init__(self) -> None:
        super().__init__(
            "These data contain multiple runs; this information is only available "
            "for a single run. Select data from one run, e.g. with the run it came from."
        )


class NoDataError(ExtraCatalogError, ValueError):
    """There is no data to reduce to a single value."""

    def __init__(self, source: str, key: str | None = None):
        self.source = source
        self.key = key
        what = source if key is None else f"{source}, key {key}"
        super().__init__(f"No data found for source {what}")


class FileStructureError(ExtraCatalogError):
    """An HDF5 file does not have the structure of an EuXFEL data file."""


class DataFileError(ExtraCatalogError, OSError):
    """A data file could not be read.

    The message always names the file and the problem.
    """

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"

    def __reduce__(self):
        # Keep the exception picklable across process pools.
        return (type(self), (self.path, self.problem))


class DataFileNotFoundError(DataFileError, FileNotFoundError):
    """The data file does not exist."""


class DataFilePermissionError(DataFileError, PermissionError):
    """The data file exists but may not be read by this user."""


class CorruptFileError(DataFileError):
    """The file is not HDF5, is truncated or otherwise damaged."""


class DataFileTimeoutError(DataFileError, TimeoutError):
    """Reading the file did not finish in time (e.g. it is only on tape)."""


class CatalogError(ExtraCatalogError):
    """A problem with the catalogue database (schema, connection, lock...)."""


class NotImplementedYetError(ExtraCatalogError, NotImplementedError):
    """A feature that is planned but not built yet in extra_catalog."""


# --- catalogue errors (appended by the catalogue layer) ---------------------


class CatalogConnectionError(CatalogError):
    """The catalogue URL is malformed or its database cannot be reached."""


class NotACatalogError(CatalogError):
    """The database exists but is not an extra_catalog catalogue."""


class CatalogRevisionError(CatalogError):
    """The catalogue schema is older or newer than this extra_catalog expects.

    Attributes
    ----------
    url : str
        The catalogue, as given by the user (password hidden).
    found, expected : str or None
        The revision stored in the catalogue and the one the code expects.
    """

    def __init__(self, message: str, url: str, found: str | None, expected: str):
        self.url = url
        self.found = found
        self.expected = expected
        super().__init__(message)

    def __reduce__(self):
        return (type(self), (str(self), self.url, self.found, self.expected))


class CatalogLockedError(CatalogError):
    """Another process held the catalogue's write lock for longer than the busy timeout."""


__all__ += [
    "CatalogConnectionError",
    "NotACatalogError",
    "CatalogRevisionError",
    "CatalogLockedError",
]
