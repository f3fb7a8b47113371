"""Sends due e-mails and webhook calls, retries failures with back-off, and reports each outcome.

Event handlers only write what is to be sent (in the event's transaction); this loop sends it, in
three steps that never hold a transaction across a send:
1. claim: one statement, a transaction of its own, takes the oldest due message (`SKIP LOCKED`, so
   replicas never take the same one), counts its try and moves its `due_at` past the longest a send
   may take (a lease). An empty look is that one statement.
2. try: read what it carries (one statement), build the message and send it. Any failure, expected
   or not, is a failed try of this one message: it never escapes to stop the queue.
3. settle: the outcome (sent, the next try, or failed for good) in one statement, committed together
   with NotificationDelivered / NotificationFailed.
A crash, or an outcome that cannot be recorded, leaves a counted try: the message comes back when
its lease ends (with the same Message-ID or X-Passerelle-Delivery id, so a receiver can tell), and
once its tries are spent it ends as NotificationFailed. Every message is thus settled in a bounded
number of tries, whatever it holds, and others behind it go out meanwhile.

A message whose lease ran out after its last try (its outcome could never be recorded) ends as
NotificationFailed when it is claimed again, in that claim's transaction.

E-mails and webhook calls have workers of their own, and each webhook target (host and port) has at
most one call in flight per process: slow receivers, however many members point at them, hold one
webhook worker each, never e-mails. A member has at most one e-mail in flight per process.

The dispatcher also ends as NotificationFailed what waited for a member's profile longer than
`profile_wait` (the profile never came).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import structlog
from passerelle.contracts import NotificationDelivered, NotificationFailed
from passerelle.messaging.unit_of_work import SqlUnitOfWork
from prometheus_client import Counter

from .config import NotificationsSettings
from .handlers import WAITING
from .mail import Attachment, DeliveryError, Mailer
from .orm import ContactRow, NotificationRow
from .preferences import SENT_CHANNELS, Preferences
from .repository import NotificationsRepository, Repositories
from .texts import Text, compose_email, language_of, plain_error
from .webhooks import WebhookSender

log = structlog.get_logger(__name__)

Unit = SqlUnitOfWork[NotificationsRepository]

SENDS = Counter(
    "passerelle_notification_sends_total", "E-mails and webhook calls tried", ["channel", "outcome"]
)
POISONED = Counter(
    "passerelle_notification_unexpected_errors_total",
    "Unexpected errors while building, sending or recording one e-mail or webhook call",
    ["channel", "stage"],
)
LEASE_MARGIN = 15.0  # seconds beyond a send's deadline before a claimed message is tried again


@dataclass(frozen=True)
class Claim:
    message_id: str
    member_id: str
    channel: str
    digest: bool
    attempts: int
    target: str  # what has one send in flight at a time: a webhook's host and port, an e-mail's member
    more: bool  # other messages were due when it was claimed


@dataclass(frozen=True)
class Outcome:
    sent_to: str | None = None  # where it went, when sent
    error: str | None = None
    permanent: bool = False
    gone: bool = False  # the member was erased, or nothing is left to send: the message goes


class Dispatcher:
    def __init__(
        self,
        units: Callable[[], Unit],
        looks: Repositories,
        mailer: Mailer,
        webhooks: WebhookSender,
        settings: NotificationsSettings,
    ) -> None:
        self.units = units  # for what commits with events
        self.looks = looks  # for single statements, each its own transaction
        self.mailer = mailer
        self.webhooks = webhooks
        self.retry_delays = settings.delivery_retry_delays
        self.interval = settings.dispatch_interval
        self.profile_wait = settings.profile_wait
        self.secret_overlap = settings.webhook_secret_overlap
        self.workers = {"email": settings.email_workers, "webhook": settings.webhook_workers}
        self.leases = {"email": mailer.deadline + LEASE_MARGIN, "webhook": webhooks.timeout + LEASE_MARGIN}
        self._in_flight: dict[str, set[str]] = {channel: set() for channel in SENT_CHANNELS}
        self._claiming = {channel: asyncio.Lock() for channel in SENT_CHANNELS}
        # Workers waiting for work, woken one at a time; `_missed`: a wake came while none waited.
        self._idle: dict[str, list[asyncio.Event]] = {channel: [] for channel in SENT_CHANNELS}
        self._missed = dict.fromkeys(SENT_CHANNELS, False)
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def tries(self) -> int:
        return len(self.retry_delays) + 1

    def wake(self, channel: str) -> None:
        """New work was committed on that channel: one of its workers looks (told in memory, no poll)."""
        if self._idle[channel]:
            self._idle[channel].pop().set()
        else:
            self._missed[channel] = True

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(channel, watch=n == 0), name=f"notifications-{channel}-{n}")
            for channel in SENT_CHANNELS
            for n in range(self.workers[channel])
        ]
        self._tasks.append(asyncio.create_task(self._sweep_waiting(), name="notifications-waiting"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _run(self, channel: str, *, watch: bool) -> None:
        """Send while there is work; then wait to be woken. Only the `watch` worker also looks every
        `interval` (work another process left, retries coming due): idle workers cost no polls."""
        woken = asyncio.Event()
        while True:
            try:
                while await self.send_next(channel):
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the loop must outlive a database outage
                log.warning("notifications.dispatch.retry", error=repr(error))
            if self._missed[channel]:
                self._missed[channel] = False
                continue
            woken.clear()
            self._idle[channel].append(woken)
            try:
                async with asyncio.timeout(self.interval if watch else None):
                    await woken.wait()
            except TimeoutError:
                pass
            finally:
                if woken in self._idle[channel]:
                    self._idle[channel].remove(woken)

    async def send_next(self, channel: str) -> bool:
        """Try the oldest due message of that channel; False when none was, or when it was the only
        one due (a message committed since wakes a worker)."""
        claim = await self._claim(channel)
        if claim is None:
            return False
        try:
            outcome = await self._try(claim)
        finally:
            self._in_flight[channel].discard(claim.target)
        await self._settle(claim, outcome)
        return claim.more

    async def _claim(self, channel: str) -> Claim | None:
        """The next message to try, its target marked busy; None when none is due."""
        busy = self._in_flight[channel]
        # One claim at a time per channel in this process: the targets it leaves out are still busy
        # when it returns, so that a claimed message always has its target free.
        async with self._claiming[channel]:
            while True:
                now = datetime.now(UTC)
                lease = now + timedelta(seconds=self.leases[channel])
                async with self.looks() as repository:
                    claimed = await repository.claim_due_message(channel, busy, now, lease, self.tries)
                if claimed is None:
                    return None
                if claimed.attempts < self.tries:
                    break
                # Its lease ran out after its last try: its outcome could never be recorded.
                spent = Outcome(error="no outcome was recorded after its last try (see logs)", permanent=True)
                await self._fail(channel, claimed.message_id, claimed.attempts, spent)
            busy.add(claimed.target)
        if claimed.more:
            self.wake(channel)  # another worker looks while this one sends
        return Claim(
            claimed.message_id,
            claimed.member_id,
            channel,
            claimed.digest,
            claimed.attempts + 1,
            claimed.target,
            claimed.more,
        )

    async def _sweep_waiting(self) -> None:
        """What waited for a profile that never came ends as NotificationFailed, saying why."""
        every = max(self.interval, min(self.profile_wait / 10, 3600.0))
        while True:
            try:
                await self._expire_waiting()
            except Exception as error:  # noqa: BLE001 - the loop must outlive a database outage
                log.warning("notifications.waiting.retry", error=repr(error))
            await asyncio.sleep(every)

    async def _expire_waiting(self) -> None:
        since = datetime.now(UTC) - timedelta(seconds=self.profile_wait)
        async with self.looks() as looking:
            if not await looking.waiting_since(since):
                return
        async with self.units() as uow:
            expired = await uow.repository.expire_waiting(since)
            error = f"the member's profile did not come within {self.profile_wait:g} s"
            for waiting in expired:
                uow.record(
                    NotificationFailed(
                        notification_id=str(uuid.uuid4()),
                        member_id=waiting.member_id,
                        channel="inbox",
                        kind=waiting.kind,
                        cause_event_id=waiting.cause_event_id,
                        error=error,
                    )
                )
                log.warning("notifications.waiting_expired", member_id=waiting.member_id, kind=waiting.kind)
            await uow.commit()
        WAITING.labels("expired").inc(len(expired))

    async def _try(self, claim: Claim) -> Outcome:
        async with self.looks() as repository:
            contact, row, notifications = await repository.message_to_send(claim.message_id, claim.member_id)
        preferences = Preferences.of(row)
        if contact is None or contact.erased or not notifications:
            return Outcome(gone=True)  # erased since: nothing is sent to them
        try:
            send = self._build(claim, contact, preferences, notifications)
        except DeliveryError as error:
            return Outcome(error=str(error), permanent=error.permanent)
        except Exception as error:  # one message that cannot be built must not stop the rest
            # The same data would fail the same way on every try: it ends now, saying why.
            POISONED.labels(claim.channel, "build").inc()
            log.exception("notifications.unbuildable", message_id=claim.message_id)
            return Outcome(error=f"could not be built: {type(error).__name__}: {error}", permanent=True)
        try:
            return Outcome(sent_to=await send())
        except DeliveryError as error:
            return Outcome(error=str(error), permanent=error.permanent)
        except Exception as error:  # an unforeseen send failure is a failed try, retried
            POISONED.labels(claim.channel, "send").inc()
            log.exception("notifications.send_error", message_id=claim.message_id)
            return Outcome(error=f"{type(error).__name__}: {error}")

    def _build(
        self,
        claim: Claim,
        contact: ContactRow,
        preferences: Preferences,
        notifications: list[NotificationRow],
    ) -> Callable[[], Awaitable[str]]:
        """What sends this message, built beforehand so that a bad value fails here, not mid-send."""
        if claim.channel == "email":
            if not contact.email:
                raise DeliveryError("the member has no e-mail address", permanent=True)
            language = language_of(contact.locale)
            texts = [Text(n.kind, n.language, n.title, n.body) for n in notifications]
            email = compose_email(language, contact.display_name or "", texts, digest=claim.digest)
            # A gathering's confirmation carries its calendar file.
            calendars = [n.data["ics"] for n in notifications if isinstance(n.data.get("ics"), str)]
            attachments = [Attachment("gathering.ics", "text/calendar", ics) for ics in calendars]
            message = self.mailer.compose(
                claim.message_id, contact.email, email, attachments
            )  # fails here if at all
            return functools.partial(self.mailer.send, claim.message_id, message)
        if not preferences.webhook_url or not preferences.webhook_secret:
            raise DeliveryError("the member no longer has a webhook", permanent=True)
        body = json.dumps(
            {
                "delivery_id": claim.message_id,
                "member_id": claim.member_id,
                "digest": claim.digest,
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
        overlap = timedelta(seconds=self.secret_overlap)
        signing = preferences.signing_secrets(datetime.now(UTC), overlap)
        return functools.partial(self.webhooks.post, preferences.webhook_url, signing, claim.message_id, body)

    async def _settle(self, claim: Claim, outcome: Outcome) -> None:
        try:
            if outcome.gone:
                async with self.looks() as repository:
                    await repository.drop_message(claim.message_id, claim.attempts)
            elif outcome.sent_to is not None:
                async with self.units() as uow:
                    delivered = await uow.repository.settle_sent(
                        claim.message_id, claim.attempts, datetime.now(UTC)
                    )
                    for notification in delivered:
                        uow.record(NotificationDelivered(**asdict(notification)))
                    await uow.commit()
                if delivered:  # else erased meanwhile, or its lease ran out and another try owns it
                    SENDS.labels(claim.channel, "sent").inc()
                    log.info(
                        "notifications.sent",
                        message_id=claim.message_id,
                        channel=claim.channel,
                        to=outcome.sent_to,
                    )
            else:
                await self._fail(claim.channel, claim.message_id, claim.attempts, outcome)
        except Exception:  # its try is counted: it comes back when its lease ends
            POISONED.labels(claim.channel, "record").inc()
            log.exception("notifications.outcome_not_recorded", message_id=claim.message_id)

    async def _fail(self, channel: str, message_id: str, attempts: int, outcome: Outcome) -> None:
        """A failed try of the message: tried again after its back-off, or failed for good (when
        permanent, or its last try) with NotificationFailed for each notification it carried."""
        error = plain_error(outcome.error or "unknown")
        if not outcome.permanent and attempts < self.tries:
            due_at = datetime.now(UTC) + timedelta(seconds=self.retry_delays[attempts - 1])
            async with self.looks() as repository:
                await repository.retry_later(message_id, attempts, error, due_at)
            SENDS.labels(channel, "retry").inc()
            log.warning("notifications.retry", message_id=message_id, attempts=attempts, error=error)
            return
        async with self.units() as uow:
            failed = await uow.repository.settle_failed(message_id, attempts, error)
            for notification in failed:
                uow.record(NotificationFailed(**asdict(notification), error=error))
            await uow.commit()
        if failed:  # else erased meanwhile, or its lease ran out and another try owns it
            SENDS.labels(channel, "failed").inc()
            log.error("notifications.failed", message_id=message_id, attempts=attempts, error=error)
