"""Work a service does on a timer while it runs (reminders, expiries, due campaigns, deadlines, inbox
pruning, territory news): one task, started and stopped with the service, that outlives a failing
round, and that a commit leaving work can wake in memory before the interval."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)


class Periodic:
    """Runs `work` every `interval` seconds. With `until_done`, a round that answers something truthy
    (more was due than one round takes) is followed by another at once. A round that fails is
    logged as `failed` and the next one comes at the interval, as usual. `wake()` starts the next
    round now (a wake during a round: another round after it); the interval stays the safety net
    for work another process, or this one before a restart, left."""

    def __init__(
        self,
        name: str,
        work: Callable[[], Awaitable[object]],
        interval: float,
        *,
        failed: str,
        until_done: bool = False,
    ) -> None:
        self.name = name
        self.work = work
        self.interval = interval
        self.failed = failed
        self.until_done = until_done
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()  # before the round: a wake during it means more work
            try:
                while await self.work() and self.until_done:
                    pass
            except Exception as error:  # noqa: BLE001 - the loop must outlive a database outage
                log.warning(self.failed, task=self.name, error=repr(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
