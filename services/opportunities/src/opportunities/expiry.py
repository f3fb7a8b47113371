"""Reminders and expiry, looked for at an interval while the service runs; the handlers decide what
is due by their clock, so that a test moves time instead of waiting."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from .handlers import OpportunitiesHandlers

log = structlog.get_logger(__name__)


class ExpiryWatch:
    def __init__(self, handlers: OpportunitiesHandlers, interval: float) -> None:
        self.handlers = handlers
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="opportunities-expiry")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                changed = await self.handlers.remind_and_expire()
                if changed:
                    log.info("opportunities.expiry_done", changed=changed)
            except Exception:
                log.exception("opportunities.expiry_failed")
            await asyncio.sleep(self.interval)
