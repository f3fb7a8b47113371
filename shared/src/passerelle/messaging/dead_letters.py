"""The dead-letter queue: where a message goes, with its reason, when it cannot be handled."""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from passerelle.contracts import DLQ_STREAM, EVENTS_BY_SUBJECT, stream_of

from .unit_of_work import EventTooLarge, published_size

ORIGINAL_SUBJECT = "Passerelle-Original-Subject"
CONSUMER = "Passerelle-Consumer"
DELIVERIES = "Passerelle-Deliveries"
ERROR = "Passerelle-Error"
FAILED_AT = "Passerelle-Failed-At"
STREAM_SEQUENCE = "Passerelle-Stream-Sequence"
ENCODING = "Passerelle-Payload-Encoding"  # "gzip": a payload that did not fit the letter as it was

# A literal NATS subject: dot-separated tokens of printable characters, no wildcards.
_SUBJECT = re.compile(r"[!-)+,\-/-=?-~]+(\.[!-)+,\-/-=?-~]+)*")


def outbox_consumer(service: str) -> str:
    """The name an outbox relay's letters carry in the DLQ, where a consumer's durable name would be."""
    return f"{service}__outbox"


def _header_value(text: str, limit: int = 2000) -> str:
    """Header values are one line of printable text."""
    return re.sub(r"[\r\n\t]+", " ", text)[:limit]


@dataclass(frozen=True)
class DeadLetter:
    """One message in the DLQ, as `passerelle dlq list` shows it."""

    sequence: int
    original_subject: str
    consumer: str
    deliveries: int
    error: str
    failed_at: str
    payload: bytes
    headers: dict[str, str]


class DeadLetters:
    """Writes failed messages to the DLQ stream, de-duplicated per consumer and original message."""

    def __init__(self, js: JetStreamContext) -> None:
        self.js = js

    async def send(self, message: Msg, *, consumer: str, deliveries: int, error: str) -> None:
        metadata = message.metadata
        original_headers = dict(message.headers or {})
        headers = {
            "Nats-Msg-Id": f"dlq:{consumer}:{metadata.sequence.stream}",
            "content-type": original_headers.get("content-type", ""),
            ORIGINAL_SUBJECT: message.subject,
            CONSUMER: consumer,
            DELIVERIES: str(deliveries),
            ERROR: _header_value(error),
            FAILED_AT: datetime.now(UTC).isoformat(),
            STREAM_SEQUENCE: str(metadata.sequence.stream),
        }
        if "Nats-Msg-Id" in original_headers:
            headers["Passerelle-Original-Msg-Id"] = original_headers["Nats-Msg-Id"]
        await self.js.publish(
            f"dlq.{consumer}.{message.subject}", message.data, headers=headers, stream=DLQ_STREAM
        )

    async def send_unpublished(
        self,
        service: str,
        *,
        subject: str,
        payload: bytes,
        headers: dict[str, str],
        error: str,
        max_bytes: int,
    ) -> None:
        """An outbox row JetStream refuses for good, kept here with the reason (`dlq replay` retries it).

        A payload too large for the letter is kept compressed (events are JSON: it shrinks several
        times); EventTooLarge when even that is more than the server takes.
        """
        consumer = outbox_consumer(service)
        event_id = headers.get("Nats-Msg-Id", "")
        letter_headers = {
            "Nats-Msg-Id": f"dlq:{consumer}:{event_id}",
            "content-type": headers.get("content-type", ""),
            "Passerelle-Original-Msg-Id": event_id,
            ORIGINAL_SUBJECT: subject,
            CONSUMER: consumer,
            DELIVERIES: "0",
            ERROR: _header_value(error),
            FAILED_AT: datetime.now(UTC).isoformat(),
        }
        if published_size(letter_headers, payload) > max_bytes:
            payload = gzip.compress(payload)
            letter_headers[ENCODING] = "gzip"
        size = published_size(letter_headers, payload)
        if size > max_bytes:
            raise EventTooLarge(
                f"a letter of {size} bytes compressed, more than the {max_bytes} NATS accepts"
            )
        letter_subject = (
            f"dlq.{consumer}.{subject}" if _SUBJECT.fullmatch(subject) else f"dlq.{consumer}.invalid"
        )
        await self.js.publish(letter_subject, payload, headers=letter_headers, stream=DLQ_STREAM)

    async def list(self, limit: int = 100) -> list[DeadLetter]:
        info = await self.js.stream_info(DLQ_STREAM)
        letters: list[DeadLetter] = []
        if info.state.messages == 0:
            return letters
        for sequence in range(info.state.first_seq, info.state.last_seq + 1):
            if len(letters) >= limit:
                break
            try:
                raw = await self.js.get_msg(DLQ_STREAM, seq=sequence)
            except NotFoundError:  # a replayed (deleted) letter leaves a gap
                continue
            headers = dict(raw.headers or {})
            letters.append(
                DeadLetter(
                    sequence=sequence,
                    original_subject=headers.get(ORIGINAL_SUBJECT, ""),
                    consumer=headers.get(CONSUMER, ""),
                    deliveries=int(headers.get(DELIVERIES, "0")),
                    error=headers.get(ERROR, ""),
                    failed_at=headers.get(FAILED_AT, ""),
                    payload=_payload(raw.data, headers),
                    headers=headers,
                )
            )
        return letters

    async def replay(self, sequence: int) -> str:
        """Publish a dead letter again on its original subject; returns that subject.

        It gets a fresh Nats-Msg-Id so JetStream does not drop it as a duplicate; the CloudEvents id
        inside is unchanged, so consumers that already handled it skip it through their inbox and only
        the consumer that failed applies it. The letter is then removed from the DLQ.
        """
        raw = await self.js.get_msg(DLQ_STREAM, seq=sequence)
        headers = dict(raw.headers or {})
        subject = headers[ORIGINAL_SUBJECT]
        replay_headers = {
            "Nats-Msg-Id": f"replay:{headers.get('Nats-Msg-Id', sequence)}:{datetime.now(UTC).timestamp()}",
            "content-type": headers.get("content-type", ""),
            "Passerelle-Replayed-From": str(sequence),
        }
        stream = stream_of(EVENTS_BY_SUBJECT[subject]).name if subject in EVENTS_BY_SUBJECT else None
        await self.js.publish(subject, _payload(raw.data, headers), headers=replay_headers, stream=stream)
        await self.js.delete_msg(DLQ_STREAM, sequence)
        return subject


def _payload(data: bytes | None, headers: dict[str, str]) -> bytes:
    """A letter's original payload, as it was before any compression."""
    return gzip.decompress(data or b"") if headers.get(ENCODING) == "gzip" else data or b""
