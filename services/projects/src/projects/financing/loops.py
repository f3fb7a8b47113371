"""The due-campaign and lapse loop: closes campaigns past their closing time, reminds the pledgers
of successful ones who have not paid, and lapses their pledges at the end of the collection window.

Each campaign is handled in its own transaction, which checks again under the project's lock that
it is still due: a pass that crashes, a restart or a second replica never closes one twice, and
what was not done is done by the next pass."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

import structlog

from .handlers import Clock, FinancingHandlers, Units

log = structlog.get_logger(__name__)


class FinancingLoop:
    def __init__(
        self, units: Units, handlers: FinancingHandlers, interval: float, batch: int, clock: Clock
    ) -> None:
        self.units = units
        self.handlers = handlers
        self.interval = interval
        self.batch = batch
        self.clock = clock
        self._task: asyncio.Task[None] | None = None

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

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("financing.pass_failed")
            await asyncio.sleep(self.interval)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="projects-financing-loop")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
