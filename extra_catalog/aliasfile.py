"""Alias files: JSON, YAML or TOML mappings of alias names to sources and keys.

Pure parsing, shared by the reader (``with_aliases``, ``open_run``) and the
crawler (which records each proposal's alias file in the catalogue). A value
is a source name, a ``[source, key]`` list, or a ``{alias: key}`` mapping
under a source name. Alias names are case-insensitive and treat ``-`` and
``_`` alike: :func:`normalise_alias` gives their stored form.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union

from .exceptions import ExtraCatalogError

__all__ = ["AliasFileError", "Target", "load_alias_file", "normalise_alias"]

#: What an alias stands for: a source name, or a (source, key) pair.
Target = Union[str, tuple[str, str]]


class AliasFileError(ExtraCatalogError, ValueError):
    """An alias file could not be read or has an entry of the wrong type."""


def normalise_alias(alias: str) -> str:
    """The stored form of an alias name: lower-case, ``_`` as ``-``."""
    return alias.lower().replace("_", "-")


def _read_mapping(path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix == ".json":
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    if suffix in (".yaml", ".yml"):
        import yaml

        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    if suffix == ".toml":
        try:
            import tomllib
        except ImportError:  # Python 3.10
            import tomli as tomllib
        with open(path, "rb") as f:
            return tomllib.load(f)
    raise AliasFileError(f"{path}: alias files must be .json, .yaml, .yml or .toml")


def load_alias_file(path: str | os.PathLike) -> dict[str, Target]:
    """Aliases defined in a JSON, YAML or TOML file (names as written).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    AliasFileError
        The file cannot be parsed, or an entry is not a source name, a
        ``[source, key]`` pair or a ``{alias: key}`` mapping.
    """
    path = Path(path)
    try:
        data = _read_mapping(path)
    except (FileNotFoundError, PermissionError, AliasFileError):
        raise
    except Exception as err:  # each parser has its own error classes
        raise AliasFileError(f"{path}: not a valid {path.suffix[1:].upper()} file "
                             f"({err})") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise AliasFileError(f"{path}: expected a mapping of aliases at the top level")
    aliases: dict[str, Target] = {}
    for name, value in data.items():
        if isinstance(value, str):
            aliases[name] = value
        elif isinstance(value, list) and len(value) == 2:
            aliases[name] = (str(value[0]), str(value[1]))
        elif isinstance(value, Mapping):
            for alias, key in value.items():
                aliases[alias] = (name, key)
        else:
            raise AliasFileError(f"unsupported literal type for alias '{name}' (in {path})")
    return aliases
