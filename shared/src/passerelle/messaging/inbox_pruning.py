"""The inbox forgets what the streams have forgotten.

An inbox row says "this consumer handled this event", so that a redelivery has no second effect.
JetStream cannot redeliver an event it no longer keeps, so a row older than the streams' max age
(plus a margin for retries and replays from the DLQ) guards nothing: it is deleted, in batches
small enough that no consumer's insert waits long. Every service runs this on a timer; it keeps no
state of its own, so a restart simply starts again, and replicas pruning at once skip each other's
rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import delete, select, tuple_

from passerelle.periodic import Periodic
from passerelle.persistence.database import Database

from .tables import inbox

log = structlog.get_logger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class InboxPruning(Periodic):
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
        super().__init__(f"inbox-pruning-{service}", self.prune, interval, failed="inbox.pruning_failed")
        self.database = database
        self.service = service
        self.keep = keep  # None: the streams keep events for ever, and so does the inbox
        self.batch = batch
        self.clock = clock

    async def start(self) -> None:
        if self.keep is not None:
            await super().start()

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
