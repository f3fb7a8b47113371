"""Answers awaited in time (PASSERELLE_MATCHING_ANSWER_DAYS): a proposal the member leaves unanswered
is reminded half-way and expires at the end of the delay, giving its place to the next offer; an
accepted match the project leaves unconfirmed that long reminds the project, once.

Each sweep is one unit of work over rows it locks (skipping those another sweep holds): a match is
ended or reminded once, whatever restarts and replicas; what a crash interrupts is swept again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

import structlog
from passerelle.contracts import MatchReminded
from passerelle.periodic import Periodic
from passerelle.unit_of_work import UnitOfWork

from .config import MatchingSettings
from .domain import Ending, Status
from .engine import MatchingEngine
from .orm import MatchRow
from .proposals import settle, withdraw
from .repository import Repository

log = structlog.get_logger(__name__)

BATCH = 200  # matches a sweep takes at most, to keep its transaction short
Clock = Callable[[], datetime]
Side = Literal["member", "project"]


def _now() -> datetime:
    return datetime.now(UTC)


class Deadlines(Periodic):
    def __init__(
        self,
        units: Callable[[], UnitOfWork[Repository]],
        engine: MatchingEngine,
        settings: MatchingSettings,
        clock: Clock = _now,
    ) -> None:
        # A full batch may leave more due: sweeps follow at once until none is.
        super().__init__(
            "matching-deadlines",
            self.sweep,
            settings.deadline_sweep_seconds,
            failed="matching.deadlines_retry",
            until_done=True,
        )
        self.units = units
        self.engine = engine
        self.delay = timedelta(days=settings.answer_days)
        self.clock = clock

    async def sweep(self) -> int:
        """One batch: expire, then remind; how many matches it ended or reminded (0: none was due)."""
        now = self.clock()
        async with self.units() as uow, self.engine.change(uow) as change:
            repository = uow.repository
            expired = await repository.waiting_since(
                Status.PROPOSED, now - self.delay, unreminded=False, limit=BATCH
            )
            for match in expired:
                withdraw(uow, match, Ending.EXPIRED)
                match.in_top = False
                change.declined_by_member(match.need_id, match.offer_id)
            # Before the next offers are proposed (settle), so that only matches that waited are reminded.
            members = await repository.waiting_since(
                Status.PROPOSED, now - self.delay / 2, unreminded=True, limit=BATCH
            )
            projects = await repository.waiting_since(
                Status.ACCEPTED, now - self.delay, unreminded=True, limit=BATCH
            )
            for match in members:
                self._remind(uow, match, "member", now)
            for match in projects:
                self._remind(uow, match, "project", now)
            await settle(uow, change, now)
            await uow.commit()
        swept = len(expired) + len(members) + len(projects)
        if swept:
            log.info("matching.deadlines_swept", expired=len(expired), reminded=len(members) + len(projects))
        return swept

    def _remind(self, uow: UnitOfWork[Repository], match: MatchRow, side: Side, now: datetime) -> None:
        match.reminded_at = now
        uow.record(
            MatchReminded(
                match_id=match.match_id,
                project_id=match.project_id,
                need_id=match.need_id,
                member_id=match.member_id,
                reminded=side,
                answer_by=match.stage_since + self.delay,
            )
        )
