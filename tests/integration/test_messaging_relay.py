"""One outbox row that can never be published does not hold back the others, on the real servers.

The nats-server here accepts at most 4 KiB per message (max_payload), as a production server may
accept less than the 1 MiB default; rows "committed before" are written straight into the outbox,
as a service would have committed them before the server's limit was lowered, or by a bug.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest
from passerelle.contracts import MemberErased, envelope
from passerelle.embedded.nats import EmbeddedNats
from passerelle.embedded.ports import free_port
from passerelle.messaging.dead_letters import DeadLetters
from passerelle.messaging.relay import OutboxRelay
from passerelle.messaging.tables import outbox
from passerelle.messaging.unit_of_work import OutboxRow, no_repository, units
from passerelle.persistence.database import Database
from passerelle.runtime.service import ServiceApp
from sqlalchemy import func, insert, select

from ..harness import Databases, eventually, reset_streams, settings_for, start_platform, stream_messages
from .scenario import name_manager, territory

MAX_PAYLOAD = 4096


@pytest.fixture(scope="module")
async def small_nats(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    store = tmp_path_factory.mktemp("small-nats")
    config = store / "nats.conf"
    config.write_text(f"max_payload: {MAX_PAYLOAD}\n")
    server = EmbeddedNats(store_dir=Path(store) / "jetstream", port=free_port(), config_file=config)
    await server.start()
    try:
        yield server.url
    finally:
        await server.stop()


@pytest.fixture
async def members(small_nats: str, databases: Databases) -> AsyncIterator[ServiceApp]:
    """The members service's database and broker, its relay driven by the test."""
    await reset_streams(small_nats)
    service = ServiceApp("members", settings_for(small_nats), await databases.fresh("members"))
    await service.broker.connect()
    try:
        yield service
    finally:
        await service.broker.stop()
        await service.database.dispose()


def _erasure(member_id: str) -> dict[str, Any]:
    event = envelope(MemberErased(member_id=member_id))
    return {
        "event_id": event.id,
        "subject": MemberErased.subject,
        "stream": "MEMBERS",
        "headers": event.nats_headers(),
        "payload": event.to_json(),
    }


def _poisoned(row: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**row, **changes}


async def _committed(database: Database, rows: list[dict[str, Any]]) -> None:
    async with database.engine.begin() as connection:
        await connection.execute(insert(outbox), rows)


async def _outbox_ids(database: Database) -> list[str]:
    async with database.engine.connect() as connection:
        return list((await connection.execute(select(outbox.c.event_id).order_by(outbox.c.id))).scalars())


async def _stream(url: str, stream: str) -> list[Any]:
    connection = await nats.connect(url)
    try:
        return await stream_messages(connection.jetstream(), stream)
    finally:
        await connection.close()


async def _letters(url: str) -> list[Any]:
    connection = await nats.connect(url)
    try:
        return await DeadLetters(connection.jetstream()).list()
    finally:
        await connection.close()


def _big_payload(row: dict[str, Any]) -> bytes:
    """The row's event with an extension a tolerant reader ignores, making it over max_payload."""
    body = json.loads(row["payload"])
    body["extension"] = "an ever repeated note " * 300
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("description", "poison", "reason"),
    [
        (
            "larger than the server's max_payload",
            lambda row: _poisoned(row, payload=_big_payload(row)),
            "more than the server's max_payload of 4096",
        ),
        (
            # Small enough for the client's own check, too large with its headers: the server would
            # close the connection, failing every publish in flight.
            "within max_payload only without its headers",
            lambda row: _poisoned(row, payload=row["payload"].ljust(MAX_PAYLOAD - 20)),
            "more than the server's max_payload of 4096",
        ),
        (
            "on a subject outside the service's own stream",
            lambda row: _poisoned(row, subject="projects.project_closed.v1", stream="PROJECTS"),
            "is not in a stream members publishes to",
        ),
        (
            "on a subject no stream takes",
            lambda row: _poisoned(row, subject="nowhere.member_erased.v1"),
            "is not in a stream members publishes to",
        ),
        (
            "refused by JetStream",
            lambda row: _poisoned(
                row, headers={**row["headers"], "Nats-Expected-Last-Msg-Id": "not-the-last-one"}
            ),
            "refused by JetStream",
        ),
    ],
)
async def test_a_row_that_can_never_be_published_goes_to_the_dlq_and_the_rows_after_it_are_published_in_order(
    small_nats: str, members: ServiceApp, description: str, poison, reason: str
) -> None:
    before, bad, after = _erasure("member-1"), _erasure("member-2"), _erasure("member-3")
    poisoned = poison(bad)
    await _committed(members.database, [before, poisoned, after])

    relay = OutboxRelay(members.database, members.broker, "members")
    assert await relay.relay_pending() == 2, description

    published = [json.loads(m.data)["id"] for m in await _stream(small_nats, "MEMBERS")]
    assert published == [before["event_id"], after["event_id"]]
    assert await _outbox_ids(members.database) == []  # nothing left to block the queue
    [letter] = await _letters(small_nats)  # ... and nothing lost: the row is in the DLQ, as it was
    assert letter.consumer == "members__outbox"
    assert letter.original_subject == poisoned["subject"]
    assert reason in letter.error, letter.error
    assert letter.payload == poisoned["payload"]
    assert letter.headers["Passerelle-Original-Msg-Id"] == bad["event_id"]


async def test_a_row_too_large_even_for_the_dlq_stays_in_the_outbox_and_the_rows_after_it_are_published(
    small_nats: str, members: ServiceApp
) -> None:
    bad, after = _erasure("member-1"), _erasure("member-2")
    body = json.loads(bad["payload"])
    body["extension"] = base64.b64encode(os.urandom(6000)).decode()  # does not compress below 4 KiB
    await _committed(members.database, [_poisoned(bad, payload=json.dumps(body).encode()), after])

    relay = OutboxRelay(members.database, members.broker, "members")
    assert await relay.relay_pending() == 1
    assert await relay.relay_pending() == 0  # held back: not tried again and again

    assert [json.loads(m.data)["id"] for m in await _stream(small_nats, "MEMBERS")] == [after["event_id"]]
    assert await _outbox_ids(members.database) == [bad["event_id"]]  # kept, not lost
    assert await _letters(small_nats) == []


async def test_a_relay_after_a_poisoned_row_keeps_publishing_new_events_at_once(
    small_nats: str, members: ServiceApp
) -> None:
    bad = _erasure("member-1")
    await _committed(members.database, [_poisoned(bad, payload=_big_payload(bad))])
    members.relay.start()
    try:
        async with members.units(no_repository)() as uow:
            fresh = uow.record(MemberErased(member_id="member-2"))
            await uow.commit()
        published = await eventually(lambda: _stream(small_nats, "MEMBERS"))
        assert [json.loads(m.data)["id"] for m in published] == [fresh.id]
        assert await eventually(lambda: _letters(small_nats))
        # The poisoned row goes once its letter is acknowledged, a moment after the letter is there.
        await eventually(lambda: _outbox_empty(members.database))
    finally:
        await members.relay.stop()


async def _outbox_empty(database: Database) -> bool:
    return await _outbox_ids(database) == []


async def test_an_event_larger_than_the_server_accepts_fails_its_request_with_a_422_and_nothing_commits(
    small_nats: str, databases: Databases
) -> None:
    await reset_streams(small_nats)
    platform = await start_platform(settings_for(small_nats), databases)
    try:
        tafraout = await territory(platform)
        await name_manager(platform, tafraout, "amina")
        project = await platform.call(
            "POST",
            "/projects",
            "amina",
            expect=201,
            json={
                "territory_id": tafraout,
                "title": "A well",
                "summary": "Every detail of the well. " * 160,  # 4,160 characters: fine to store
                "sector": "water",
                "funding": {"goal_amount": "5000", "currency": "EUR"},
            },
        )
        answer = await platform.http.post(
            f"/projects/{project['project_id']}/publish", headers=platform.as_("amina")
        )
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert "more than the 4096 NATS accepts" in answer.json()["detail"]

        still = await platform.call("GET", f"/projects/{project['project_id']}", "amina", expect=200)
        assert still["status"] == "draft"
        events = [event["type"] for event in await platform.events("PROJECTS")]
        assert "passerelle.projects.ProjectPublished.v1" not in events
        projects_db = platform.services["projects"].database
        async with projects_db.engine.connect() as connection:
            assert (await connection.execute(select(func.count()).select_from(outbox))).scalar() == 0
    finally:
        await platform.stop()


class _Relay:
    origin = "this-process"

    def __init__(self) -> None:
        self.handed: list[list[OutboxRow]] = []

    def hand(self, rows: list[OutboxRow]) -> None:
        self.handed.append(rows)


async def test_the_relay_of_the_process_is_handed_the_rows_of_committed_events_and_only_those(
    databases: Databases,
) -> None:
    database = Database(await databases.fresh("members"))
    relay = _Relay()
    make = units(database, no_repository, relay=relay)
    try:
        async with make() as uow:
            uow.record(MemberErased(member_id="m-1"))
        assert relay.handed == []  # rolled back: nothing to relay
        async with make() as uow:
            await uow.commit()
        assert relay.handed == []  # committed, but no event
        async with make() as uow:
            recorded = [uow.record(MemberErased(member_id=f"m-{n}")) for n in range(3)]
            await uow.commit()
        [rows] = relay.handed
        assert [row.event_id for row in rows] == [event.id for event in recorded]
        assert [row.payload for row in rows] == [event.to_json() for event in recorded]
        assert await _outbox_ids(database) == [event.id for event in recorded]  # in id order, as handed
        assert [row.id for row in rows] == sorted(row.id for row in rows)
    finally:
        await database.dispose()


async def test_the_leading_relay_publishes_at_once_what_another_process_commits_in_the_order_it_was_recorded(
    small_nats: str, members: ServiceApp
) -> None:
    """The leader's own process hands it the rows in memory; another replica's commit reaches it by
    the NOTIFY (the poll is an hour away here)."""
    relay = OutboxRelay(members.database, members.broker, "members", poll_interval=3600)
    this_process = units(members.database, no_repository, relay=relay)
    other_replica = units(members.database, no_repository, relay=_Relay())  # another process's own
    relay.start()
    try:
        async with this_process() as uow:
            first = uow.record(MemberErased(member_id="member-0")).id
            await uow.commit()
        await eventually(lambda: _published(small_nats, [first]))  # the relay leads and listens from here
        async with other_replica() as uow:
            then = [uow.record(MemberErased(member_id=f"member-{n}")).id for n in range(1, 6)]
            await uow.commit()
        await eventually(lambda: _published(small_nats, [first, *then]))
        async with this_process() as uow:  # its NOTIFY is its own: only the rows handed tell the relay
            last = uow.record(MemberErased(member_id="member-6")).id
            await uow.commit()
        await eventually(lambda: _published(small_nats, [first, *then, last]))
        assert await _outbox_ids(members.database) == []
    finally:
        await relay.stop()


async def _published(url: str, ids: list[str]) -> bool:
    return [json.loads(m.data)["id"] for m in await _stream(url, "MEMBERS")] == ids


async def test_a_row_the_leader_was_not_told_of_goes_out_before_the_rows_it_is_handed_after_it(
    small_nats: str, members: ServiceApp
) -> None:
    """A row another process committed whose NOTIFY has not come (here: none at all), or one a commit
    could not hand, is published before what the leader's process commits after it."""
    relay = OutboxRelay(members.database, members.broker, "members", poll_interval=3600)
    this_process = units(members.database, no_repository, relay=relay)
    relay.start()
    try:
        async with this_process() as uow:
            first = uow.record(MemberErased(member_id="member-0")).id
            await uow.commit()
        await eventually(lambda: _published(small_nats, [first]))  # leading, and handed rows follow
        untold = _erasure("member-1")
        await _committed(members.database, [untold])  # no NOTIFY, nothing handed
        async with this_process() as uow:
            after = uow.record(MemberErased(member_id="member-2")).id
            await uow.commit()
        await eventually(lambda: _published(small_nats, [first, untold["event_id"], after]))
        assert await _outbox_ids(members.database) == []
    finally:
        await relay.stop()
