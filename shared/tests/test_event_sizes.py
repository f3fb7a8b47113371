"""Events and dead letters are measured as the server will count them: with the headers publishing
adds (no I/O)."""

from __future__ import annotations

import gzip
from types import SimpleNamespace
from typing import Any, cast

import pytest
from passerelle.contracts import DLQ_STREAM, MemberErased, envelope, stream_of
from passerelle.messaging import dead_letters
from passerelle.messaging.dead_letters import DeadLetters
from passerelle.messaging.unit_of_work import EventLimit, EventTooLarge, SqlUnitOfWork, published_size


def _uow(max_bytes: int) -> SqlUnitOfWork[Any]:
    database = SimpleNamespace(sessions=None)
    return SqlUnitOfWork(cast(Any, database), lambda session: session, EventLimit(max_bytes))


def test_an_event_that_fits_only_without_the_headers_publishing_adds_is_refused_at_commit() -> None:
    event = envelope(MemberErased(member_id="m-1"))
    own_headers_size = published_size(event.nats_headers(), event.to_json(), stream="")
    with pytest.raises(EventTooLarge):
        _uow(own_headers_size + 50)._outbox_row(event)


def test_an_event_is_measured_with_the_stream_and_correlation_headers_the_relay_sends() -> None:
    event = envelope(MemberErased(member_id="m-1"))
    headers = {
        **event.nats_headers(),
        "Nats-Expected-Stream": stream_of(MemberErased).name,
        "correlation_id": event.id,
    }
    on_the_wire = b"NATS/1.0\r\n" + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items()) + b"\r\n"
    exact = len(on_the_wire) + len(event.to_json())
    assert _uow(exact)._outbox_row(event)["event_id"] == event.id
    with pytest.raises(EventTooLarge):
        _uow(exact - 1)._outbox_row(event)


class _JetStream:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []

    async def publish(self, subject: str, payload: bytes, *, headers: dict[str, str], stream: str) -> None:
        self.sent.append((subject, payload, headers))


def _consumed(payload: bytes) -> Any:
    metadata = SimpleNamespace(sequence=SimpleNamespace(stream=7))
    return SimpleNamespace(
        subject="members.member_erased.v1", data=payload, headers={"Nats-Msg-Id": "e-1"}, metadata=metadata
    )


async def test_a_consumed_message_near_the_limit_is_dead_lettered_within_the_limit_with_its_payload() -> None:
    js, limit = _JetStream(), 4096
    payload = b'{"data": "' + b"x" * 3900 + b'"}'
    letters = DeadLetters(cast(Any, js), limit)
    consumer = "projects__member_erased_v1"
    await letters.send(_consumed(payload), consumer=consumer, deliveries=3, error="E" * 3000)
    [(_, sent, headers)] = js.sent
    assert published_size(headers, sent, stream=DLQ_STREAM) <= limit
    assert dead_letters._payload(sent, headers) == payload
    assert headers[dead_letters.ERROR].startswith("EEE")


async def test_two_outbox_rows_without_a_message_id_header_make_two_letters() -> None:
    js = _JetStream()
    letters = DeadLetters(cast(Any, js))
    for event_id in ("e-1", "e-2"):
        await letters.send_unpublished(
            "members", event_id=event_id, subject="members.x.v1", payload=b"{}", headers={}, error="refused"
        )
    assert len({headers["Nats-Msg-Id"] for _, _, headers in js.sent}) == 2


def test_a_letter_that_does_not_decompress_is_shown_as_it_is() -> None:
    headers = {dead_letters.ENCODING: "gzip"}
    assert dead_letters._payload(b"not gzip", headers) == b"not gzip"
    assert dead_letters._payload(gzip.compress(b"{}")[:-4], headers) == gzip.compress(b"{}")[:-4]
