"""What a change to the tops does to the matches: their rows, and the events that tell of them."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from passerelle.contracts import MatchProposed, MatchWithdrawn
from passerelle.unit_of_work import UnitOfWork

from .domain import Ending, Status, ended_by, ends
from .engine import Change
from .orm import MatchRow
from .repository import Repository

log = structlog.get_logger(__name__)


async def settle(uow: UnitOfWork[Repository], change: Change, now: datetime | None = None) -> None:
    """Propose what entered a top k, end what left it (as far as its status allows), rescore the rest;
    a proposal waits for its answer from `now` (default: the present)."""
    effect, repository = change.effect(), uow.repository
    since = now or datetime.now(UTC)
    for need_id, offer_id, reason in effect.withdrawn:
        match = await repository.pair(need_id, offer_id)
        if match is None:
            continue
        match.in_top = False
        if ends(match.status, reason):
            withdraw(uow, match, reason)
    for need_id, offer_id, fit in effect.proposed:
        # Most pairs are new: one INSERT; a pair seen before (withdrawn, declined) is read and updated.
        added = await repository.add_match(
            change.project_of(need_id), need_id, offer_id, change.member_of(offer_id), fit, since
        )
        if added is not None:
            _propose(uow, added)
            continue
        match = await repository.pair(need_id, offer_id)
        if match is None:  # erased meanwhile
            continue
        match.in_top, match.score, match.reasons = True, fit.score, list(fit.reasons)
        if match.status == Status.WITHDRAWN:
            match.status, match.reason = Status.PROPOSED, None
            entered_stage(match, since)
            _propose(uow, match)
    for need_id, offer_id, fit in effect.rescored:
        match = await repository.pair(need_id, offer_id)
        if match is not None:
            match.score, match.reasons = fit.score, list(fit.reasons)


async def sweep(uow: UnitOfWork[Repository], reason: Ending, **where: str) -> None:
    """End the live matches `reason` ends that no top k holds any more (an accepted match outside
    its need's top k); those still in one are ended by `settle`."""
    for match in await uow.repository.live(ended_by(reason), **where):
        if not match.in_top:
            withdraw(uow, match, reason)


def withdraw(uow: UnitOfWork[Repository], match: MatchRow, reason: str) -> None:
    match.status, match.reason, match.updated_at = Status.WITHDRAWN, reason, datetime.now(UTC)
    uow.record(
        MatchWithdrawn(
            match_id=match.match_id,
            project_id=match.project_id,
            need_id=match.need_id,
            member_id=match.member_id,
            reason=reason,
        )
    )


def entered_stage(match: MatchRow, now: datetime) -> None:
    """A match newly proposed or accepted waits for its answer from `now`, not reminded yet."""
    match.stage_since, match.reminded_at = now, None


def _propose(uow: UnitOfWork[Repository], match: MatchRow) -> None:
    uow.record(
        MatchProposed(
            match_id=match.match_id,
            project_id=match.project_id,
            need_id=match.need_id,
            offer_id=match.offer_id,
            member_id=match.member_id,
            score=match.score,
            reasons=list(match.reasons),
        )
    )
    log.info("match.proposed", match_id=match.match_id, need_id=match.need_id, score=match.score)
