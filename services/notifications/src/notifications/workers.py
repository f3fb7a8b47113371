"""A background loop of the service: it works while there is work, then sleeps until woken in memory
(after a commit that left work) or until its interval passes (the safety net for work that another
process, or this one before a restart, left)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)


class Worker:
    def __init__(self, name: str, interval: float) -> None:
        self.name = name
        self.interval = interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self, work: Callable[[], Awaitable[bool]]) -> None:
        """`work` does one bounded step and says whether there may be more."""
        self._task = asyncio.create_task(self._run(work), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self, work: Callable[[], Awaitable[bool]]) -> None:
        while True:
            self._wake.clear()  # before working: a wake during the work means more work
            try:
                while await work():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the loop must outlive a database outage
                log.warning(f"{self.name}.retry", error=repr(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
