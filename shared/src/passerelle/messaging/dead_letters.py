"""The dead-letter queue: where a message goes, with its reason, when it cannot be handled."""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from passerelle.contracts import DLQ_STREAM, EVENTS_BY_SUBJECT, stream_of

from .unit_of_work import DEFAULT_MAX_EVENT_BYTES, EventTooLarge, published_size

log = structlog.get_logger(__name__)

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


# How long an error may be in a letter: whole when it fits, else this much.
_SHORT_ERROR = 200


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

    def __init__(self, js: JetStreamContext, max_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self.js = js
        self.max_bytes = max_bytes  # the server's max_payload, which every letter must fit

    async def send(self, message: Msg, *, consumer: str, deliveries: int, error: str) -> None:
        """A consumed message that cannot be handled, kept with the reason (`dlq replay` sends it again)."""
        metadata = message.metadata
        original_headers = dict(message.headers or {})
        headers = {
            "Nats-Msg-Id": f"dlq:{consumer}:{metadata.sequence.stream}",
            "content-type": original_headers.get("content-type", ""),
            ORIGINAL_SUBJECT: message.subject,
            CONSUMER: consumer,
            DELIVERIES: str(deliveries),
            FAILED_AT: datetime.now(UTC).isoformat(),
            STREAM_SEQUENCE: str(metadata.sequence.stream),
        }
        if "Nats-Msg-Id" in original_headers:
            headers["Passerelle-Original-Msg-Id"] = original_headers["Nats-Msg-Id"]
        await self._publish_letter(message.subject, message.data, headers, error)

    async def send_unpublished(
        self,
        service: str,
        *,
        event_id: str,
        subject: str,
        payload: bytes,
        headers: dict[str, str],
        error: str,
    ) -> None:
        """An outbox row JetStream refuses for good, kept here with the reason (`dlq replay` retries it)."""
        consumer = outbox_consumer(service)
        letter_headers = {
            "Nats-Msg-Id": f"dlq:{consumer}:{event_id}",
            "content-type": headers.get("content-type", ""),
            "Passerelle-Original-Msg-Id": event_id,
            ORIGINAL_SUBJECT: subject,
            CONSUMER: consumer,
            DELIVERIES: "0",
            FAILED_AT: datetime.now(UTC).isoformat(),
        }
        await self._publish_letter(subject, payload, letter_headers, error)

    async def _publish_letter(
        self, subject: str, payload: bytes, headers: dict[str, str], error: str
    ) -> None:
        """A letter must fit the server's max_payload (over it, the server closes the connection and
        the letter is never written): a long error is shortened first, then a payload still too large
        is kept compressed (events are JSON: it shrinks several times); EventTooLarge when even that
        is more than the server takes."""
        consumer, max_bytes = headers[CONSUMER], self.max_bytes
        headers = {**headers, ERROR: _header_value(error)}
        if published_size(headers, payload, stream=DLQ_STREAM) > max_bytes:
            headers[ERROR] = _header_value(error, _SHORT_ERROR)
        if published_size(headers, payload, stream=DLQ_STREAM) > max_bytes:
            payload = gzip.compress(payload)
            headers[ENCODING] = "gzip"
        size = published_size(headers, payload, stream=DLQ_STREAM)
        if size > max_bytes:
            raise EventTooLarge(
                f"a letter of {size} bytes compressed, more than the {max_bytes} NATS accepts"
            )
        letter_subject = (
            f"dlq.{consumer}.{subject}" if _SUBJECT.fullmatch(subject) else f"dlq.{consumer}.invalid"
        )
        await self.js.publish(letter_subject, payload, headers=headers, stream=DLQ_STREAM)

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
    """A letter's original payload, as it was before any compression; a letter that does not
    decompress is shown as it is (one bad letter must not hide the others)."""
    if headers.get(ENCODING) != "gzip":
        return data or b""
    try:
        return gzip.decompress(data or b"")
    except (OSError, EOFError) as error:  # BadGzipFile is an OSError; a cut stream an EOFError
        log.warning("dlq.letter_not_decompressed", error=str(error))
        return data or b""
