"""Source and key selection: normalise ``select``/``deselect`` arguments.

Pure logic, no files: the reader passes the keys each source currently has
(after any earlier selection) and which sources are CONTROL sources, and gets
back ``{source: frozenset(keys) | None}``. ``None`` means "every key the source
has in ``source_keys``", so a reader keeping ``None`` for "all keys" keeps it.

Matching follows EXtra-data:

* source and key patterns are shell globs (:func:`fnmatch.fnmatchcase`:
  case-sensitive, ``*`` also matches ``/``, ``:`` and ``.``, ``?``, ``[seq]``,
  ``[!seq]``);
* for CONTROL sources a key pattern not ending in ``.value`` or ``*`` gets
  ``.value`` appended, so ``'beamPosition.ixPos'`` selects
  ``beamPosition.ixPos.value`` and ``'beamPosition.*'`` selects values and
  timestamps; exact key names in a dict or set may omit ``.value`` too;
* the key pattern ``'*'`` selects the whole source (``None``), even a CONTROL
  source with RUN values only and no keys.

``source_keys`` may be a lazy mapping: only sources whose name matched and
whose key pattern is not ``'*'`` have their keys looked up. Iterating it must
list the source names and ``in`` must test a name, both without loading keys
(``Mapping.__contains__`` calls ``__getitem__`` unless overridden).

``require_all`` / ``require_any`` are left to the reader because they need
per-train counts. Combine them with a result ``sel`` like this: for each
``source, keys in sel.items()`` (skipping sources without keys, i.e. RUN-only),
for each group in :func:`selected_index_groups`, build the boolean array
``counts > 0`` over the collection's train IDs; AND (``require_all``) or OR
(``require_any``) them all, then select trains with that mask
(:func:`.selection.select_train_positions` takes it directly). EXtra-data warns
``"{n_drop}/{n_prev} ({frac:.0%}) trains dropped when filtering by {source}"``
when one source drops at least ``warn_drop_trains_frac`` of the trains left.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any, Optional

from ..exceptions import PropertyNameError, SourceNameError

__all__ = [
    "KeySelection",
    "select_sources_keys",
    "deselect_sources_keys",
    "select_source_keys",
    "resolve_key",
    "union_selections",
    "selected_index_groups",
]

#: ``{source: keys}``; ``None`` stands for all of the source's keys.
KeySelection = dict[str, Optional[frozenset[str]]]

_WILDCARD = re.compile(r"[*?\[]")


def select_sources_keys(
    seln_or_source_glob: Any,
    key_glob: str = "*",
    *,
    source_keys: Mapping[str, AbstractSet[str]],
    control_sources: AbstractSet[str],
) -> KeySelection:
    """Normalise the arguments of ``DataCollection.select``.

    Parameters
    ----------
    seln_or_source_glob : str, iterable or dict
        A source glob (with ``key_glob``); an iterable of source globs and/or
        ``(source_glob, key_glob)`` pairs, a key matching any of them being
        selected; or a dict ``{source: set(keys) | None}`` of exact names,
        ``None`` or an empty set meaning all keys. (The reader turns a
        DataCollection, SourceData or KeyData argument into such a dict.)
    key_glob : str, optional
        Key pattern used with a single source glob; default all keys.
    source_keys : mapping of str to set of str
        Each source of the collection and the keys currently selected in it.
    control_sources : set of str
        Which of them are CONTROL sources.

    Returns
    -------
    dict
        ``{source: frozenset(keys) | None}`` for the selected sources only.

    Raises
    ------
    SourceNameError
        A dict names a source the collection does not have.
    PropertyNameError
        A dict names a key its source does not have.
    ValueError
        A glob pattern matches nothing: "No matches for pattern (src, key)".
    TypeError
        An argument of the wrong type, e.g. dict values that are not sets.
    """
    if isinstance(seln_or_source_glob, str):
        seln_or_source_glob = [(seln_or_source_glob, key_glob)]
    if isinstance(seln_or_source_glob, Mapping):
        return _expand_dict(seln_or_source_glob, source_keys, control_sources)
    if isinstance(seln_or_source_glob, Iterable):
        matches = (
            _match_pattern(*_as_pattern(item), source_keys, control_sources)
            for item in seln_or_source_glob
        )
        return union_selections(matches)
    raise TypeError(f"Unknown selection type: {type(seln_or_source_glob)}")


def deselect_sources_keys(
    seln_or_source_glob: Any,
    key_glob: str = "*",
    *,
    source_keys: Mapping[str, AbstractSet[str]],
    control_sources: AbstractSet[str],
) -> KeySelection:
    """What remains after ``DataCollection.deselect``.

    Takes the same arguments and raises the same errors as
    :func:`select_sources_keys`. A source whose every key is deselected, or
    which the pattern matched with ``'*'``, is dropped. A CONTROL key pattern
    ``'x'`` removes only ``x.value``; use ``'x*'`` to remove the timestamp too.

    Returns
    -------
    dict
        ``{source: frozenset(keys) | None}`` for every remaining source, in the
        order of ``source_keys``; ``None`` for sources left untouched.
    """
    removed = select_sources_keys(
        seln_or_source_glob, key_glob, source_keys=source_keys, control_sources=control_sources
    )
    remaining: KeySelection = {}
    for source in source_keys:
        if source not in removed:
            remaining[source] = None
            continue
        gone = removed[source]
        if gone is None:
            continue
        left = frozenset(source_keys[source]) - gone
        if left:
            remaining[source] = left
    return remaining


def select_source_keys(
    keys: str | Iterable[str] | None,
    available: AbstractSet[str],
    *,
    source: str,
    is_control: bool,
) -> frozenset[str] | None:
    """Normalise the argument of ``SourceData.select_keys`` for one source.

    Parameters
    ----------
    keys : str, iterable of str or None
        A key name or glob (CONTROL: ``.value`` optional as in
        :func:`select_sources_keys`), or a set of exact key names, or
        ``None`` / an empty set for all keys.
    available : set of str
        The keys the source currently has selected.
    source : str
        The source name, for error messages.
    is_control : bool
        Whether the source is a CONTROL source.

    Returns
    -------
    frozenset of str or None
        The selected keys, a subset of ``available``; ``None`` for all of them.
        A reader storing its selection as ``None`` or a set can use the result
        as the new selection directly, because it is already within
        ``available`` (EXtra-data's intersection with the current selection).

    Raises
    ------
    PropertyNameError
        The pattern matches no key, or a named key does not exist.
    """
    if isinstance(keys, str):
        matched = _match_keys(keys, available, is_control)
        if matched is not None and not matched:
            raise PropertyNameError(keys, source)
        return matched
    if not keys:
        return None
    resolved = set()
    for key in keys:
        name = resolve_key(key, available, is_control=is_control)
        if name is None:
            raise PropertyNameError(key, source)
        resolved.add(name)
    return frozenset(resolved)


def resolve_key(key: str, available: AbstractSet[str], *, is_control: bool) -> str | None:
    """The stored name of ``key``, or ``None`` if the source has no such key.

    CONTROL keys may be given without their ``.value`` suffix
    (``'beamPosition.ixPos'`` -> ``'beamPosition.ixPos.value'``); this is
    what ``key in sd``, ``sd[key]`` and ``dc[source, key]`` accept.
    """
    if key in available:
        return key
    if is_control and f"{key}.value" in available:
        return f"{key}.value"
    return None


def union_selections(selections: Iterable[Mapping[str, AbstractSet[str] | None]]) -> KeySelection:
    """Merge selections: the union of keys per source, ``None`` (all) winning.

    Used to merge the patterns of one ``select`` call and by ``union``.
    """
    merged: KeySelection = {}
    for selection in selections:
        for source, keys in selection.items():
            if source in merged and merged[source] is None:
                continue
            if keys is None:
                merged[source] = None
            else:
                merged[source] = merged.get(source, frozenset()) | frozenset(keys)
    return merged


def selected_index_groups(
    keys: AbstractSet[str] | None,
    *,
    is_control: bool,
    all_groups: Callable[[], AbstractSet[str]],
) -> frozenset[str]:
    """Index groups whose per-train counts decide if selected keys have data.

    CONTROL sources have the single group ``''``. For other sources each key's
    group is its first component (``image.data`` -> ``image``); with all keys
    selected (``None``) every group of the source counts, which
    ``all_groups`` supplies (called only then, so it may read the catalogue).
    """
    if is_control:
        return frozenset({""})
    if keys is None:
        return frozenset(all_groups())
    return frozenset(key.partition(".")[0] for key in keys)


# --- helpers -----------------------------------------------------------------


def _as_pattern(item: Any) -> tuple[str, str]:
    if isinstance(item, str):
        return item, "*"
    if isinstance(item, (tuple, list)) and len(item) == 2 and all(isinstance(p, str) for p in item):
        return item[0], item[1]
    raise TypeError(
        "A selection list holds source globs or (source glob, key glob) pairs, "
        f"got {item!r}"
    )


def _expand_dict(
    selection: Mapping[Any, Any],
    source_keys: Mapping[str, AbstractSet[str]],
    control_sources: AbstractSet[str],
) -> KeySelection:
    result: KeySelection = {}
    for source, keys in selection.items():
        if source not in source_keys:
            raise SourceNameError(source)
        if keys == {}:
            # An empty dict used to be accepted for "all keys"; keep it working.
            keys = None
        if keys is not None and not isinstance(keys, AbstractSet):
            raise TypeError(f"keys in selection dict should be a set or None (got {keys!r})")
        result[source] = select_source_keys(
            keys, source_keys[source], source=source, is_control=source in control_sources
        )
    return result


def _match_pattern(
    source_glob: str,
    key_glob: str,
    source_keys: Mapping[str, AbstractSet[str]],
    control_sources: AbstractSet[str],
) -> KeySelection:
    """Sources matching ``source_glob`` with their keys matching ``key_glob``."""
    matched: KeySelection = {}
    for source in _match_names(source_glob, source_keys):
        if key_glob == "*":
            # Whole source, without looking its keys up (they may be costly).
            matched[source] = None
            continue
        keys = _match_keys(key_glob, source_keys[source], source in control_sources)
        if keys:
            matched[source] = keys
    if not matched:
        raise ValueError(f"No matches for pattern {(source_glob, key_glob)}")
    return matched


def _match_names(glob: str, names: Iterable[str]) -> list[str]:
    if _WILDCARD.search(glob) is None:
        # A literal name: one membership test instead of a scan.
        return [glob] if glob in names else []
    regex = re.compile(fnmatch.translate(glob))
    return [name for name in names if regex.match(name)]


def _match_keys(glob: str, available: AbstractSet[str], is_control: bool) -> frozenset[str] | None:
    """Keys of one source matching ``glob``; ``None`` for ``'*'`` (all keys)."""
    if is_control and not glob.endswith((".value", "*")):
        glob += ".value"
    if glob == "*":
        return None
    return frozenset(_match_names(glob, available))
