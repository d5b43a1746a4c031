"""Keeping ``run_outlines`` in step with the tables it is derived from.

Every function of :mod:`.store` that changes what a run's outline holds
(its files, run facts or problems) calls :func:`mark_stale` with the run's
id; just before the transaction commits, each marked run's outline is
rebuilt from the tables it has just written, so a committed run never has
an outline that disagrees with its tables. Deleting a run deletes its
outline (``ON DELETE CASCADE``).

A run without an outline (catalogued before migration 0009) is opened
from the tables; :func:`build_missing_outlines` fills them in (the crawler
calls it).
"""

from __future__ import annotations

from sqlalchemy import delete, event, insert, select
from sqlalchemy.orm import Session

from ._read import load_run_record
from .engine import Catalog
from .models import Proposal, Run, RunOutline
from .outline import OUTLINE_FORMAT, encode_outline

__all__ = ["mark_stale", "write_outline", "build_missing_outlines"]

_STALE = "extra_catalog.stale_outlines"


def mark_stale(session: Session, run_id: int) -> None:
    """Rebuild the outline of run *run_id* when *session* commits."""
    session.info.setdefault(_STALE, set()).add(run_id)


def write_outline(session: Session, run_id: int) -> None:
    """Build the outline of one run from its tables and store it (none if the run is gone)."""
    session.execute(delete(RunOutline).where(RunOutline.run_id == run_id))
    found = session.execute(select(Run, Proposal).join(Proposal, Proposal.id == Run.proposal_id)
                            .where(Run.id == run_id)).first()
    if found is None:
        return
    record = load_run_record(session, found[0], found[1], details=False)
    session.execute(insert(RunOutline), [{"run_id": run_id, "format": OUTLINE_FORMAT,
                                          "blob": encode_outline(record)}])


def _missing(session: Session) -> list[int]:
    current = select(RunOutline.run_id).where(RunOutline.format == OUTLINE_FORMAT)
    return list(session.execute(select(Run.id).where(Run.id.not_in(current))).scalars())


def build_missing_outlines(catalog: Catalog) -> int:
    """Store an outline for every run that has none, or one of another format.

    Runs catalogued before migration 0009 (or by code with another outline
    format) get theirs; a catalogue where every run has one is only read.

    Returns
    -------
    int
        The number of outlines written.
    """
    with catalog.session_scope() as session:
        if not _missing(session):
            return 0
    with catalog.session_scope(write=True) as session:
        missing = _missing(session)
        for run_id in missing:
            write_outline(session, run_id)
    return len(missing)


@event.listens_for(Session, "before_commit")
def _rebuild_stale(session: Session) -> None:
    stale = session.info.pop(_STALE, None)
    if stale:
        session.flush()  # ORM changes first: the outline is built from the tables
        for run_id in sorted(stale):
            write_outline(session, run_id)


@event.listens_for(Session, "after_rollback")
def _forget_stale(session: Session) -> None:
    session.info.pop(_STALE, None)
