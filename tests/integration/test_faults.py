"""Crashes and outages lose nothing: the outbox relay and a nats-server restart, on the real servers."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

import nats
from passerelle.contracts import MemberErased
from passerelle.embedded.nats import EmbeddedNats
from passerelle.embedded.ports import free_port
from passerelle.messaging.relay import OutboxRelay
from passerelle.messaging.topology import TopologySettings, provision
from passerelle.messaging.unit_of_work import SqlUnitOfWork, no_repository
from passerelle.persistence.database import Database
from passerelle.runtime.service import ServiceApp, consumed_events

from ..harness import Databases, eventually, settings_for, start_platform, stream_messages
from .scenario import offer, profile, published_project, territory


async def _members_stream(nats_url: str) -> list[dict]:
    connection = await nats.connect(nats_url)
    try:
        return [
            {"headers": dict(m.headers or {}), "event": json.loads(m.data)}
            for m in await stream_messages(connection.jetstream(), "MEMBERS")
        ]
    finally:
        await connection.close()


async def _commit_erasure(database: Database, member_id: str) -> str:
    async with SqlUnitOfWork(database, no_repository) as uow:
        event = uow.record(MemberErased(member_id=member_id))
        await uow.commit()
    return event.id


async def test_events_committed_before_a_crash_are_published_by_the_relay_after_restart(
    clean_nats: str, databases: Databases
) -> None:
    url = await databases.fresh("members")
    # The process commits its state and events, then dies before its relay publishes anything.
    writer = Database(url)
    committed = [await _commit_erasure(writer, f"member-{n}") for n in range(3)]
    await writer.dispose()
    assert await _members_stream(clean_nats) == []

    # After the restart, the new process's relay finds them in the outbox and publishes them, in order.
    service = ServiceApp("members", settings_for(clean_nats), url)
    await service.start()
    try:
        published = await eventually(lambda: _members_stream(clean_nats))
        assert [m["event"]["id"] for m in published] == committed
        assert [m["headers"]["Nats-Msg-Id"] for m in published] == committed
        async with service.database.engine.connect() as connection:
            assert (await connection.exec_driver_sql("SELECT count(*) FROM passerelle_outbox")).scalar() == 0
    finally:
        await service.stop()


async def test_a_relay_that_dies_after_publishing_but_before_forgetting_publishes_no_duplicate(
    clean_nats: str, databases: Databases
) -> None:
    url = await databases.fresh("members")
    service = ServiceApp("members", settings_for(clean_nats), url)
    await service.broker.connect()
    event_id = await _commit_erasure(service.database, "member-1")
    # Publish the row as the relay would, but "crash" before deleting it from the outbox.
    async with service.database.engine.connect() as connection:
        row = (
            await connection.exec_driver_sql(
                "SELECT subject, stream, headers, payload FROM passerelle_outbox"
            )
        ).one()
    await service.broker.publish(row.payload, row.subject, headers=row.headers, stream=row.stream)

    relay = OutboxRelay(service.database, service.broker, "members")
    assert await relay.relay_pending() == 1  # the restarted relay publishes it again ...
    published = await _members_stream(clean_nats)
    assert [m["event"]["id"] for m in published] == [event_id]  # ... and JetStream keeps one copy
    await service.broker.stop()
    await service.database.dispose()


async def test_a_nats_server_restart_mid_flow_loses_nothing(databases: Databases) -> None:
    with tempfile.TemporaryDirectory(prefix="passerelle-restart-") as store:
        server = EmbeddedNats(store_dir=Path(store), port=free_port())
        await server.start()
        connection = await nats.connect(server.url)
        await provision(connection.jetstream(), TopologySettings(), consumed_events())
        await connection.close()
        platform = await start_platform(settings_for(server.url), databases)
        try:
            tafraout = await territory(platform)
            await platform.call("POST", "/members", "amina", expect=201, json=profile("Amina", tafraout))
            await published_project(platform, "amina", tafraout, "energy.solar_pv_design")
            members = [f"member-{n}" for n in range(6)]
            for member in members[:3]:
                await platform.call("POST", "/members", member, expect=201, json=profile(member, tafraout))
                await offer(platform, member, "energy.solar_pv_design")

            # NATS dies abruptly; the HTTP API keeps accepting work, which waits in the outboxes.
            server.kill()
            for member in members[3:]:
                await platform.call("POST", "/members", member, expect=201, json=profile(member, tafraout))
                await offer(platform, member, "energy.solar_pv_design")
            await asyncio.sleep(1.0)
            await server.start()  # same port, same JetStream store

            async def everyone_notified() -> bool:
                for member in members:
                    inbox = await platform.call("GET", "/notifications", member, params={"member_id": member})
                    if [n["kind"] for n in inbox].count("match_proposed") != 1:
                        return False
                return True

            await eventually(everyone_notified, timeout=60)
            matches = await platform.call(
                "GET",
                "/matches",
                "operator-1",
                "operator",
                params={"project_id": (await platform.call("GET", "/projects", "amina"))[0]["project_id"]},
            )
            assert sorted(m["member_id"] for m in matches) == sorted(members)
        finally:
            await platform.stop()
            await server.stop()
