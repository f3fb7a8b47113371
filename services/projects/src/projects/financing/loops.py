"""The due-campaign and lapse loop: closes campaigns past their closing time, reminds the pledgers
of successful ones who have not paid, and lapses their pledges at the end of the collection window.

Each campaign is handled in its own transaction, which checks again under the project's lock that
it is still due: a pass that crashes, a restart or a second replica never closes one twice, and
what was not done is done by the next pass."""

from __future__ import annotations

from datetime import datetime

from passerelle.periodic import Periodic

from .handlers import Clock, FinancingHandlers, Units


class FinancingLoop(Periodic):
    def __init__(
        self, units: Units, handlers: FinancingHandlers, interval: float, batch: int, clock: Clock
    ) -> None:
        super().__init__("projects-financing-loop", self.run_once, interval, failed="financing.pass_failed")
        self.units = units
        self.handlers = handlers
        self.batch = batch
        self.clock = clock

    async def run_once(self, now: datetime | None = None) -> int:
        """One pass at `now` (default: the clock's); how many campaigns it closed."""
        now = now or self.clock()
        async with self.units() as uow:
            due = await uow.repository.due_campaigns(now, self.batch)
            collecting = await uow.repository.collecting_campaigns(self.batch)
        closed = 0
        for campaign_id in due:
            closed += await self.handlers.close_if_due(campaign_id, now)
        for campaign_id in collecting:
            await self.handlers.remind_or_lapse(campaign_id, now)
        return closed
