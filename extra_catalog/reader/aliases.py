"""Aliases: short names for sources and (source, key) pairs.

Alias names are case-insensitive and treat ``-`` and ``_`` alike (they are
stored lower-case with ``-``). Definitions come from dicts or from JSON, YAML
or TOML files in which a value is a source name, a ``[source, key]`` list, or
a ``{alias: key}`` mapping under a source name.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..aliasfile import AliasFileError, Target, load_alias_file, normalise_alias
from ..exceptions import AliasError

if TYPE_CHECKING:
    from .collection import DataCollection

__all__ = ["AliasIndexer", "AliasFileError", "load_alias_file", "merge_aliases",
           "normalise_alias", "parse_alias_defs"]


def parse_alias_defs(alias_defs: Iterable[Any]) -> tuple[list[dict[str, Target]], list[Path]]:
    """Alias dicts and the files they came from, for ``with_aliases(*alias_defs)``."""
    dicts: list[dict[str, Target]] = []
    files: list[Path] = []
    for alias_def in alias_defs:
        if isinstance(alias_def, Mapping):
            for name, target in alias_def.items():
                if not (isinstance(name, str) and (isinstance(target, str) or (
                        isinstance(target, tuple) and len(target) == 2))):
                    raise ValueError("alias definition by dict must be all str keys to str "
                                     "values for sources or 2-len tuples for sourcekeys")
            dicts.append(dict(alias_def))
        elif isinstance(alias_def, (str, os.PathLike)):
            files.append(Path(alias_def))
            dicts.append(load_alias_file(alias_def))
        else:
            raise TypeError(f"alias definitions are dicts or file paths, not "
                            f"{type(alias_def).__name__}")
    return dicts, files


def merge_aliases(dicts: Iterable[Mapping[str, Target]]) -> dict[str, Target]:
    """One alias dict from several, names normalised.

    Raises
    ------
    ValueError
        The same alias (in any spelling) stands for two different things.
    """
    merged: dict[str, Target] = {}
    for aliases in dicts:
        for name, target in aliases.items():
            alias = normalise_alias(name)
            if merged.setdefault(alias, target) != target:
                raise ValueError(f"conflicting alias definition for {alias} (or "
                                 f"{alias.upper()}, {alias.replace('-', '_')}, etc.)")
    return merged


def merge_alias_files(*lists: Iterable[Path]) -> list[Path]:
    """Alias file paths in first-seen order, without repeats."""
    seen: dict[Path, None] = {}
    for paths in lists:
        for path in paths:
            seen.setdefault(Path(path), None)
    return list(seen)


class AliasIndexer:
    """Access by alias: ``run.alias['xgm']``, ``run.alias['xgm', 'data.intensityTD']``."""

    __slots__ = ("data",)

    def __init__(self, data: DataCollection) -> None:
        self.data = data

    def _target(self, alias: str) -> Target:
        name = normalise_alias(alias)
        try:
            return self.data._aliases[name]
        except KeyError:
            raise AliasError(name) from None

    def _source(self, alias: str) -> str:
        target = self._target(alias)
        if isinstance(target, tuple):
            raise ValueError(f"{alias} not aliasing a source for this data")
        return target

    def __getitem__(self, item: str | tuple[str, str]) -> Any:
        if isinstance(item, tuple) and len(item) == 2:
            return self.data[self._source(item[0]), item[1]]
        if isinstance(item, str):
            return self.data[self._target(item)]
        raise TypeError("expected alias or (source alias, key) tuple")

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, (str, tuple)):
            raise TypeError("expected alias or (source alias, key) tuple")
        try:
            self[item]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def _ipython_key_completions_(self) -> list[str]:
        return list(self.data._aliases)

    def __str__(self) -> str:
        return f"<extra_data.AliasIndexer with {len(self.data._aliases)} aliases>"

    def __repr__(self) -> str:
        from .alias_listing import alias_listing

        return alias_listing(self)

    def file_paths(self) -> list[Path]:
        """The alias files the aliases were loaded from."""
        return list(self.data._alias_files)

    def jhub_links(self) -> dict[Path, str]:
        """Links opening each alias file under ``/gpfs`` in the Maxwell JupyterHub."""
        links = {}
        for path in self.file_paths():
            text = str(path).replace("/gpfs", "GPFS")
            if text.startswith("GPFS"):
                links[path] = f"https://max-jhub.desy.de/hub/user-redirect/lab/tree/{text}"
        return links

    def _resolve(self, selection: Any) -> Any:
        if isinstance(selection, dict):
            return {self._source(alias): keys for alias, keys in selection.items()}
        resolved: list[tuple[str, str]] = []
        for item in selection:
            if isinstance(item, tuple) and len(item) == 2:
                resolved.append((self._source(item[0]), item[1]))
            elif isinstance(item, str):
                target = self._target(item)
                resolved.append((target, "*") if isinstance(target, str) else target)
            else:
                raise TypeError(f"expected an alias or (source alias, key glob), not {item!r}")
        return resolved

    def select(self, seln_or_alias: Any, key_glob: str = "*", require_all: bool = False,
               require_any: bool = False) -> DataCollection:
        """Select sources and keys by alias.

        Takes a source alias with a key glob, an iterable of aliases and
        ``(source alias, key glob)`` pairs, or a dict of source aliases to key
        sets (empty for all keys), like :meth:`DataCollection.select`.
        """
        if isinstance(seln_or_alias, str):
            seln_or_alias = [(seln_or_alias, key_glob)]
        return self.data.select(self._resolve(seln_or_alias), require_all=require_all,
                                require_any=require_any)

    def deselect(self, seln_or_alias: Any, key_glob: str = "*") -> DataCollection:
        """Everything except the sources and keys given by alias (as :meth:`select`)."""
        if isinstance(seln_or_alias, str):
            seln_or_alias = [(seln_or_alias, key_glob)]
        return self.data.deselect(self._resolve(seln_or_alias))


class AliasMixin:
    """``with_aliases``, ``only_aliases`` and ``drop_aliases`` of DataCollection."""

    _aliases: dict[str, Target]
    _alias_files: list[Path]

    def _with(self, aliases: dict[str, Target], files: list[Path]) -> DataCollection:
        dc: Any = self
        # The same files and sources as checked for this one: no new conflict check.
        return type(dc)(dc._files_as_given(), sources_data=dc._sources_data, train_ids=dc._tids,
                        aliases=aliases, inc_suspect_trains=dc.inc_suspect_trains,
                        is_single_run=dc.is_single_run, alias_files=files, _disjoint=True)

    def _added(self, alias_defs: tuple[Any, ...]) -> tuple[dict[str, Target], list[Path]]:
        dicts, files = parse_alias_defs(alias_defs)
        return (merge_aliases([self._aliases, *dicts]),
                merge_alias_files(self._alias_files, files))

    def with_aliases(self, *alias_defs: Any) -> DataCollection:
        """A collection with more aliases, for access through :attr:`alias`.

        Each definition is a dict (``{'xgm': 'SA1_XTD2_XGM/DOOCS/MAIN'}`` or
        ``{'flux': ('SA1_XTD2_XGM/DOOCS/MAIN', 'pulseEnergy.photonFlux')}``)
        or the path of a JSON, YAML or TOML file holding such mappings, where
        a source name may also map to ``{alias: key}`` for several keys.

        Raises
        ------
        ValueError
            An alias is defined twice with different meanings, or a dict
            entry is not a source name or a (source, key) pair.
        """
        aliases, files = self._added(alias_defs)
        return self._with(aliases, files)

    def only_aliases(self, *alias_defs: Any, strict: bool = False,
                     require_all: bool = False) -> DataCollection:
        """Add aliases and keep only the aliased sources and keys.

        Aliased sources keep all their keys. Unless *strict*, aliases of
        sources or keys not in the data are ignored; *require_all* keeps only
        trains where every selected source and key has data.
        """
        aliases, files = self._added(alias_defs)
        sources = {t for t in aliases.values() if isinstance(t, str)}
        selection: list[tuple[str, str]] = [(s, "*") for s in sources]
        selection += [t for t in aliases.values() if isinstance(t, tuple) and t[0] not in sources]
        dc: Any = self
        if not strict:
            selection = [(s, k) for s, k in selection
                         if s in dc.all_sources and (k == "*" or k in dc[s])]
        selected = dc.select(selection, require_all=require_all)
        selected._aliases, selected._alias_files = aliases, files
        return selected

    def drop_aliases(self) -> DataCollection:
        """The same data without any aliases."""
        return self._with({}, [])
