"""The listing shown by ``repr(run.alias)``: aliases grouped by source, missing ones marked."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .aliases import AliasIndexer

__all__ = ["alias_listing"]

#: A red cross marks aliases whose source or key is not in the data.
MISSING = "\033[91m✗\033[0m"

def _mark(present: bool) -> str:
    return " " if present else MISSING


def _grouped(indexer: AliasIndexer) -> dict[tuple[str, str] | str, list[tuple[str, str]]]:
    """Source aliases and sources, each with its key aliases, in definition order."""
    aliases = indexer.data._aliases
    first_alias: dict[str, str] = {}
    for alias, target in aliases.items():
        if isinstance(target, str):
            first_alias.setdefault(target, alias)
    groups: dict[tuple[str, str] | str, list[tuple[str, str]]] = {}
    for alias, target in aliases.items():
        if isinstance(target, str):
            groups.setdefault((alias, target), [])
        else:
            source, key = target
            entry = (first_alias[source], source) if source in first_alias else source
            groups.setdefault(entry, []).append((alias, key))
    return groups


def _file_lines(indexer: AliasIndexer) -> list[str]:
    paths = indexer.file_paths()
    links = indexer.jhub_links()
    shown = [links.get(p, str(p)) for p in paths]
    if len(shown) == 1:
        return [f"Alias file: {shown[0]}\n"]
    if len(shown) > 1:
        return ["Alias files:", *(f"- {s}" for s in shown[:-1]), f"- {shown[-1]}\n"]
    return []


def _entry_lines(indexer: AliasIndexer, entry: tuple[str, str] | str,
                 keys: list[tuple[str, str]]) -> list[str]:
    if not keys:
        assert isinstance(entry, tuple)
        alias, source = entry
        return [f"{_mark(alias in indexer)} {alias}: {source}"]
    source_alias, source = entry if isinstance(entry, tuple) else (None, entry)
    if len(keys) == 1:
        alias, key = keys[0]
        return [f"{_mark(alias in indexer)} {alias}: ({source}, {key})"]
    present = [alias in indexer for alias, _ in keys]
    mark = _mark(True) if all(present) else (_mark(False) if not any(present) else "~")
    title = source if source_alias is None else f"{source_alias} ({source})"
    return [f"{mark} {title}:",
            *(f"  {_mark(ok)} {alias}: {key}" for (alias, key), ok in zip(keys, present))]


def alias_listing(indexer: AliasIndexer) -> str:
    """Every alias with what it stands for, grouped by source; missing ones marked ✗."""
    groups = _grouped(indexer)
    if not groups:
        return "No aliases have been loaded."
    lines = [*_file_lines(indexer), "Loaded aliases:"]
    for entry, keys in groups.items():
        block = _entry_lines(indexer, entry, keys)
        block[-1] += "\n"
        lines.extend(block)
    return "\n".join(lines)
