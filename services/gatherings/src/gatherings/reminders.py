"""The loop that announces reminders as they fall due; the use case is `GatheringsHandlers.remind`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)


class Reminders:
    def __init__(self, remind: Callable[[], Awaitable[int]], interval: float) -> None:
        self.remind = remind
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gatherings-reminders")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                while await self.remind():  # a full round may leave more due
                    pass
            except Exception:
                log.exception("gatherings.reminders_failed")
            await asyncio.sleep(self.interval)
