"""Record each crawled proposal's alias file, so queries accept alias names.

The file is ``<proposal>/usr/extra-data-aliases.yml``, the one ``open_run``
loads. It is read at every crawl of the proposal (one small file), and the
catalogue is written only when its aliases changed. A file that cannot be
read or parsed leaves the recorded aliases as they were and is reported.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from ..aliasfile import AliasFileError, Target, load_alias_file, normalise_alias
from ..catalog import Catalog
from ..catalog.aliases import recorded_aliases, replace_proposal_aliases
from .layout import RunLocation

__all__ = ["ALIAS_FILE", "proposal_dir", "record_aliases"]

log = logging.getLogger(__name__)

#: Where a proposal's alias file is, relative to the proposal directory.
ALIAS_FILE = Path("usr") / "extra-data-aliases.yml"


def proposal_dir(loc: RunLocation) -> Path | None:
    """The ``p<NNNNNN>`` directory of a run in the facility layout, else None."""
    if loc.proposal is None:
        return None
    candidate = loc.path.parent.parent
    return candidate if candidate.name == f"p{loc.proposal:06d}" else None


def _normalised(aliases: Mapping[str, Target]) -> dict[str, Target]:
    return {normalise_alias(name): target for name, target in aliases.items()}


def record_aliases(catalog: Catalog, proposal_dirs: Mapping[int, Path]) -> list[str]:
    """Record the alias file of each ``{proposal: directory}``; return error messages.

    A proposal without an alias file has its recorded aliases removed.
    """
    errors = []
    # One read for all: re-crawling an unchanged tree writes nothing here.
    stored = recorded_aliases(catalog, list(proposal_dirs))
    for proposal, directory in sorted(proposal_dirs.items()):
        path = directory / ALIAS_FILE
        try:
            aliases = _normalised(load_alias_file(path)) if path.is_file() else {}
        except (OSError, AliasFileError) as err:
            log.warning("aliases of proposal %d not updated: %s", proposal, err)
            errors.append(f"{path}: {err}")
            continue
        if aliases != stored.get(proposal, {}) and replace_proposal_aliases(
                catalog, proposal, aliases):
            log.info("recorded %d aliases of proposal %d", len(aliases), proposal)
    return errors
