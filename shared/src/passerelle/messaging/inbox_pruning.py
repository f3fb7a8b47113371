"""The inbox forgets what the streams have forgotten.

An inbox row says "this consumer handled this event", so that a redelivery has no second effect.
JetStream cannot redeliver an event it no longer keeps, so a row older than the streams' max age
(plus a margin for retries and replays from the DLQ) guards nothing: it is deleted, in batches
small enough that no consumer's insert waits long. Every service runs this on a timer; it keeps no
state of its own, so a restart simply starts again, and replicas pruning at once skip each other's
rows.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import delete, select, tuple_

from passerelle.persistence.database import Database

from .tables import inbox

log = structlog.get_logger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class InboxPruning:
    def __init__(
        self,
        database: Database,
        service: str,
        *,
        keep: timedelta | None,
        interval: float = 3600.0,
        batch: int = 1000,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.database = database
        self.service = service
        self.keep = keep  # None: the streams keep events for ever, and so does the inbox
        self.interval = interval
        self.batch = batch
        self.clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.keep is None:
            return
        self._task = asyncio.create_task(self._run(), name=f"inbox-pruning-{self.service}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.prune()
            except Exception as error:  # noqa: BLE001 - the next round tries again
                log.warning("inbox.pruning_failed", service=self.service, error=repr(error))
            await asyncio.sleep(self.interval)

    async def prune(self) -> int:
        """Delete every inbox row older than `keep`; returns how many went."""
        if self.keep is None:
            return 0
        cutoff = self.clock() - self.keep
        pruned = 0
        while True:
            old = (
                select(inbox.c.consumer, inbox.c.event_id)
                .where(inbox.c.processed_at < cutoff)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            )
            async with self.database.engine.begin() as connection:  # one short transaction per batch
                result = await connection.execute(
                    delete(inbox).where(tuple_(inbox.c.consumer, inbox.c.event_id).in_(old))
                )
            pruned += result.rowcount
            if result.rowcount < self.batch:
                break
        if pruned:
            log.info("inbox.pruned", service=self.service, rows=pruned, before=cutoff.isoformat())
        return pruned
