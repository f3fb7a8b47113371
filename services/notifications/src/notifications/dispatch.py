"""Sends due e-mails and webhook calls, retries failures with back-off, and reports each outcome.

Event handlers only write what is to be sent (in the event's transaction); this loop sends it. Each
message is sent inside a transaction that holds its row lock, so replicas never send the same one
(`SKIP LOCKED`), and its outcome (sent, or the next try, or failed for good) commits together with
NotificationDelivered / NotificationFailed. A crash between the send and that commit means one more
try later, with the same Message-ID or X-Passerelle-Delivery id so a receiver can tell.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from passerelle.contracts import NotificationDelivered, NotificationFailed
from passerelle.persistence.database import Database, UnitOfWork
from prometheus_client import Counter

from .mail import DeliveryError, Mailer
from .orm import ContactRow, MessageRow, NotificationRow
from .preferences import Preferences
from .repository import NotificationsRepository
from .texts import Text, compose_email, language_of
from .webhooks import WebhookSender

log = structlog.get_logger(__name__)

SENDS = Counter(
    "passerelle_notification_sends_total", "E-mails and webhook calls tried", ["channel", "outcome"]
)


class Dispatcher:
    def __init__(
        self,
        database: Database,
        mailer: Mailer,
        webhooks: WebhookSender,
        *,
        retry_delays: list[float],
        interval: float,
        workers: int = 4,
    ) -> None:
        self.database = database
        self.mailer = mailer
        self.webhooks = webhooks
        self.retry_delays = retry_delays
        self.interval = interval
        self.workers = workers
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name=f"notifications-dispatch-{n}") for n in range(self.workers)
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _run(self) -> None:
        while True:
            try:
                while await self.send_next():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the loop must outlive a database outage
                log.warning("notifications.dispatch.retry", error=repr(error))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)

    async def send_next(self) -> bool:
        """Send the oldest due message; False when none is due."""
        async with self.database.unit_of_work() as uow:
            repository = NotificationsRepository(uow.session)
            now = datetime.now(UTC)
            message = await repository.next_due_message(now)
            if message is None:
                return False
            notifications = await repository.notifications_of(message.message_id)
            contact = await repository.contact(message.member_id)
            if contact is None or contact.erased or not notifications:
                await uow.session.delete(message)  # erased since: nothing is sent to them
            else:
                preferences = Preferences.of(await repository.preferences(message.member_id))
                try:
                    where = await self._send(message, contact, preferences, notifications)
                except DeliveryError as error:
                    self._failed(uow, message, notifications, error, now)
                else:
                    self._sent(uow, message, notifications, now)
                    log.info(
                        "notifications.sent", message_id=message.message_id, channel=message.channel, to=where
                    )
            await uow.commit()
            return True

    async def _send(
        self,
        message: MessageRow,
        contact: ContactRow,
        preferences: Preferences,
        notifications: list[NotificationRow],
    ) -> str:
        if message.channel == "email":
            if not contact.email:
                raise DeliveryError("the member has no e-mail address", permanent=True)
            language = language_of(contact.locale)
            texts = [Text(n.kind, n.language, n.title, n.body) for n in notifications]
            email = compose_email(language, contact.display_name or "", texts, digest=message.digest)
            return await self.mailer.send(
                message.message_id, self.mailer.compose(message.message_id, contact.email, email)
            )
        if not preferences.webhook_url or not preferences.webhook_secret:
            raise DeliveryError("the member no longer has a webhook", permanent=True)
        body = json.dumps(
            {
                "delivery_id": message.message_id,
                "member_id": message.member_id,
                "digest": message.digest,
                "notifications": [
                    {
                        "notification_id": n.notification_id,
                        "kind": n.kind,
                        "language": n.language,
                        "title": n.title,
                        "body": n.body,
                        "data": n.data,
                        "cause_event_id": n.cause_event_id,
                        "created_at": n.created_at.isoformat(),
                    }
                    for n in notifications
                ],
            },
            ensure_ascii=False,
        ).encode()
        return await self.webhooks.post(
            preferences.webhook_url, preferences.webhook_secret, message.message_id, body
        )

    def _sent(
        self, uow: UnitOfWork, message: MessageRow, notifications: list[NotificationRow], now: datetime
    ) -> None:
        message.status, message.sent_at, message.attempts = "sent", now, message.attempts + 1
        SENDS.labels(message.channel, "sent").inc()
        for notification in notifications:
            notification.status, notification.delivered_at = "delivered", now
            uow.record(NotificationDelivered(**_about(notification)))

    def _failed(
        self,
        uow: UnitOfWork,
        message: MessageRow,
        notifications: list[NotificationRow],
        error: DeliveryError,
        now: datetime,
    ) -> None:
        message.attempts += 1
        message.last_error = str(error)[:2000]
        if not error.permanent and message.attempts <= len(self.retry_delays):
            message.due_at = now + timedelta(seconds=self.retry_delays[message.attempts - 1])
            SENDS.labels(message.channel, "retry").inc()
            log.warning(
                "notifications.retry",
                message_id=message.message_id,
                attempts=message.attempts,
                error=str(error),
            )
            return
        message.status = "failed"
        SENDS.labels(message.channel, "failed").inc()
        log.error(
            "notifications.failed", message_id=message.message_id, attempts=message.attempts, error=str(error)
        )
        for notification in notifications:
            notification.status, notification.error = "failed", message.last_error
            uow.record(NotificationFailed(**_about(notification), error=message.last_error))


def _about(notification: NotificationRow) -> dict[str, Any]:
    """What NotificationDelivered and NotificationFailed say of a notification."""
    return {
        "notification_id": notification.notification_id,
        "member_id": notification.member_id,
        "channel": notification.channel,
        "kind": notification.kind,
        "cause_event_id": notification.cause_event_id,
    }
