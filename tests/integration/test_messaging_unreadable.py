"""Events that can never be handled go to the DLQ at their first delivery, on the real servers.

Whatever fails before the handler's unit of work (or is a value the database refuses) would fail the
same way on every new delivery: retrying it only delays the DLQ and holds a worker.
"""

from __future__ import annotations

import json

import pytest
from passerelle.contracts import CloudEvent, MatchProposed
from passerelle.messaging.unit_of_work import SessionUnitOfWork
from passerelle.runtime.service import ServiceApp
from sqlalchemy import text

from ..harness import Databases, eventually, settings_for
from .scenario import match_proposed
from .test_delivery import Probe, dead_letters, probe_service, publish

__all__ = ["probe_service"]  # the fixture, shared with the delivery tests


def _with(event: CloudEvent[MatchProposed], **fields: object) -> bytes:
    body = json.loads(event.to_json())
    body.update(fields)
    return json.dumps(body).encode()


def _nested_50000_deep(event: CloudEvent[MatchProposed]) -> bytes:
    # An unknown attribute, which a tolerant reader ignores, but which the parser must still read.
    return event.to_json()[:-1] + b',"extension":' + b"[" * 50_000 + b"]" * 50_000 + b"}"


@pytest.mark.parametrize(
    ("description", "body"),
    [
        ("JSON nested 50,000 deep", _nested_50000_deep),
        ("an id longer than the inbox stores", lambda e: _with(e, id="x" * 65)),
        ("an id with a NUL byte, which PostgreSQL refuses", lambda e: _with(e, id="event\u0000id")),
        ("a subject longer than an aggregate id", lambda e: _with(e, subject="s" * 101)),
        ("bytes that are not UTF-8", lambda e: e.to_json().replace(b'"m1"', b'"m\xff1"')),
        ("a JSON array instead of an object", lambda e: b"[" + e.to_json() + b"]"),
    ],
)
async def test_an_event_that_can_never_be_read_goes_to_the_dlq_at_its_first_delivery(
    probe_service: tuple[ServiceApp, Probe], description: str, body
) -> None:
    app, probe = probe_service
    await publish(app, body(match_proposed()))

    [letter] = await eventually(lambda: dead_letters(app))
    assert letter.deliveries == 1, description
    assert letter.error.startswith("invalid event"), letter.error
    assert probe.attempts == []


@pytest.mark.parametrize(
    ("description", "statement", "reason"),
    [
        (
            "refused by PostgreSQL",
            "SELECT CAST(CAST(:value AS text) AS integer)",
            "out of range for type integer",
        ),
        ("refused by the driver", "SELECT CAST(:value AS integer)", "invalid input for query argument"),
    ],
)
async def test_a_value_the_database_refuses_goes_to_the_dlq_at_once_and_the_next_event_is_handled(
    clean_nats: str, databases: Databases, description: str, statement: str, reason: str
) -> None:
    handled: list[str] = []

    async def store_score_in_ten_billionths(event: CloudEvent[MatchProposed], uow: SessionUnitOfWork) -> None:
        # A handler whose integer column takes a score of 0.1 (1e9) but not one of 0.8 (8e9).
        value = round(event.data.score * 10**10)
        await uow.session.execute(
            text(statement), {"value": value if "text" not in statement else str(value)}
        )
        handled.append(event.id)

    app = ServiceApp("notifications", settings_for(clean_nats), await databases.fresh("notifications"))
    app.consumers.on(MatchProposed)(store_score_in_ten_billionths)
    await app.start()
    try:
        refused = match_proposed()
        await publish(app, refused.to_json(), refused.id)
        [letter] = await eventually(lambda: dead_letters(app))
        assert letter.deliveries == 1, description
        assert reason in letter.error, letter.error
        assert json.loads(letter.payload)["id"] == refused.id

        fine = match_proposed()
        await publish(app, _with(fine, data={**fine.data.model_dump(), "score": 0.1}), fine.id)
        assert await eventually(lambda: _handled(handled)) == [fine.id]
    finally:
        await app.stop()


async def _handled(handled: list[str]) -> list[str]:
    return handled
