"""Reminders and expiry, looked for at an interval while the service runs; the handlers decide what
is due by their clock, so that a test moves time instead of waiting."""

from __future__ import annotations

import structlog
from passerelle.periodic import Periodic

from .handlers import OpportunitiesHandlers

log = structlog.get_logger(__name__)


class ExpiryWatch(Periodic):
    def __init__(self, handlers: OpportunitiesHandlers, interval: float) -> None:
        super().__init__("opportunities-expiry", self._round, interval, failed="opportunities.expiry_failed")
        self.handlers = handlers

    async def _round(self) -> None:
        changed = await self.handlers.remind_and_expire()
        if changed:
            log.info("opportunities.expiry_done", changed=changed)
