"""Each proposal's aliases in the catalogue (table ``proposal_aliases``).

The crawler records a proposal's alias file here, so queries can take an
alias in place of a source name. Aliases arrive already normalised
(:func:`extra_catalog.aliasfile.normalise_alias`); a target is a source name
or a ``(source, key)`` pair.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import delete, insert, select

from .models import Proposal, ProposalAlias
from .store import Target, _unit

__all__ = ["proposal_aliases", "recorded_aliases", "replace_proposal_aliases"]

AliasTarget = str | tuple[str, str]


def proposal_aliases(target: Target, proposal: int) -> dict[str, AliasTarget]:
    """The aliases recorded for *proposal* (empty if none or unknown)."""
    return recorded_aliases(target, [proposal]).get(proposal, {})


def recorded_aliases(target: Target,
                     proposals: Collection[int]) -> dict[int, dict[str, AliasTarget]]:
    """``{proposal: aliases}`` of the *proposals* that have any, in one query."""
    with _unit(target, write=False) as session:
        rows = session.execute(
            select(Proposal.number, ProposalAlias.alias, ProposalAlias.source, ProposalAlias.key)
            .join(Proposal, Proposal.id == ProposalAlias.proposal_id)
            .where(Proposal.number.in_(list(proposals)))).all()
    found: dict[int, dict[str, AliasTarget]] = {}
    for number, alias, source, key in rows:
        found.setdefault(number, {})[alias] = source if key is None else (source, key)
    return found


def replace_proposal_aliases(target: Target, proposal: int,
                             aliases: Mapping[str, AliasTarget]) -> bool:
    """Make *aliases* the recorded aliases of *proposal*; return whether anything changed.

    Nothing is written when they are already recorded. A proposal the
    catalogue does not know (no run of it crawled) is left alone and False
    returned.
    """
    wanted = dict(aliases)
    if proposal_aliases(target, proposal) == wanted:
        return False
    with _unit(target, write=True) as session:
        proposal_id = session.scalar(select(Proposal.id).where(Proposal.number == proposal))
        if proposal_id is None:
            return False
        session.execute(delete(ProposalAlias).where(ProposalAlias.proposal_id == proposal_id))
        if wanted:
            session.execute(insert(ProposalAlias), [
                {"proposal_id": proposal_id, "alias": alias,
                 "source": t if isinstance(t, str) else t[0],
                 "key": None if isinstance(t, str) else t[1]}
                for alias, t in sorted(wanted.items())])
    return True
