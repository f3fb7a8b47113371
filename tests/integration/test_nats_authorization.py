"""The generated NATS authorization, loaded by a real nats-server: every service works with its own
user, and none can publish into another service's stream or read another's consumers."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import nkeys
import pytest
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from passerelle.contracts import ProjectClosed, envelope
from passerelle.embedded.nats import EmbeddedNats
from passerelle.embedded.ports import free_port
from passerelle.messaging.authorization import ADMIN, all_permissions, password_variable, render_server_config
from passerelle.messaging.broker import make_broker
from passerelle.messaging.connection import nats_connect_options
from passerelle.messaging.topology import TopologySettings, provision
from passerelle.runtime.service import consumed_events
from passerelle.settings import PlatformSettings

from ..harness import Databases, eventually, settings_for, start_platform
from .scenario import offer, profile, published_project, territory

THIRTY_DAYS = 30 * 24 * 3600.0


@pytest.fixture
async def locked_nats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[str, dict[str, str]]]:
    # nats-server parses a variable's value: a password starts with a letter (see README, operators).
    passwords = {
        permissions.user: "p" + secrets.token_hex(16) for permissions in all_permissions(consumed_events())
    }
    for user, password in passwords.items():
        monkeypatch.setenv(password_variable(user), password)  # the server reads them from its environment
    config = tmp_path / "nats.conf"
    config.write_text(render_server_config(consumed_events()))
    server = EmbeddedNats(store_dir=tmp_path / "nats", port=free_port(), config_file=config)
    await server.start()
    try:
        admin = await nats.connect(server.url, user=ADMIN, password=passwords[ADMIN])
        await provision(
            admin.jetstream(), TopologySettings(max_age=THIRTY_DAYS), consumed_events()
        )  # as in prod
        await admin.close()
        yield server.url, passwords
    finally:
        await server.stop()


async def test_each_service_works_with_its_own_user_and_is_refused_elsewhere(
    locked_nats: tuple[str, dict[str, str]], databases: Databases
) -> None:
    url, passwords = locked_nats
    admin = settings_for(url, nats_user=ADMIN, nats_password=passwords[ADMIN])

    def own_user(service: str) -> Any:
        return settings_for(url, nats_user=service, nats_password=passwords[service])

    platform = await start_platform(admin, databases, settings_of=own_user)
    try:
        # The main flow crosses all four services: each publishes, consumes, acknowledges.
        tafraout = await territory(platform)
        await platform.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", tafraout))
        await platform.call("POST", "/members", "amina", expect=201, json=profile("Amina", tafraout))
        await published_project(platform, "amina", tafraout, "energy.solar_pv_design")
        await offer(platform, "fatima", "energy.solar_pv_design")

        async def told() -> list[Any]:
            inbox = await platform.call("GET", "/notifications", "fatima", params={"member_id": "fatima"})
            return [n for n in inbox if n["kind"] == "match_proposed"]

        await eventually(told, timeout=30)
        await platform.published("NOTIFICATIONS", "NotificationDelivered")
        assert (await platform.js.stream_info("MEMBERS")).config.max_age == THIRTY_DAYS
        assert (
            await platform.js.stream_info("DLQ")
            and (await platform.js.stream_info("DLQ")).state.messages == 0
        )
        # Each service's user may read what /metrics shows of its consumers and of the DLQ.
        scraped = (await platform.http.get("/metrics")).text
        assert scraped.count("passerelle_metrics_source_up{service=") == 2 * len(platform.services)
        assert 'source="nats"} 0.0' not in scraped
    finally:
        await platform.stop()

    # Members' user cannot speak for projects, nor read matching's consumer, nor listen to other subjects.
    violations: list[str] = []

    async def on_error(error: Exception) -> None:
        violations.append(str(error))

    members = await nats.connect(
        url, user="members", password=passwords["members"], inbox_prefix="_INBOX_members", error_cb=on_error
    )
    try:
        js = members.jetstream(timeout=1)
        forged = envelope(ProjectClosed(project_id="p-1", outcome="cancelled"))
        with pytest.raises((NatsError, asyncio.TimeoutError)):
            await js.publish(
                ProjectClosed.subject, forged.to_json(), stream="PROJECTS", headers=forged.nats_headers()
            )
        with pytest.raises((NatsError, asyncio.TimeoutError)):
            await js.consumer_info("MEMBERS", "matching__SkillOffered_v1")
        await members.subscribe("matching.>")
        await members.flush()
        await eventually(lambda: _async(len(violations) >= 3))
    finally:
        await members.close()
    assert all("permissions violation" in violation.lower() for violation in violations), violations
    said = " ".join(violations).lower()
    assert 'publish to "projects.project_closed.v1"' in said, violations
    assert 'publish to "$js.api.consumer.info.members.matching__skilloffered_v1"' in said, violations
    assert 'subscription to "matching.>"' in said, violations

    admin_connection = await nats.connect(url, user=ADMIN, password=passwords[ADMIN])
    try:
        stored = await admin_connection.jetstream().stream_info("PROJECTS")
        subjects = {m.subject for m in await _all(admin_connection, "PROJECTS", stored.state.messages)}
        assert ProjectClosed.subject not in subjects  # nothing forged got in
    finally:
        await admin_connection.close()
    with pytest.raises(NatsError):
        await nats.connect(url, user="members", password="wrong", allow_reconnect=False, connect_timeout=2)


async def _all(connection: Any, stream: str, count: int) -> list[Any]:
    js = connection.jetstream()
    return [await js.get_msg(stream, seq=sequence) for sequence in range(1, count + 1)]


async def _async(value: Any) -> Any:
    return value


@pytest.mark.parametrize("method", ["nkey", "token"])
async def test_services_and_tools_take_their_nats_credentials_from_the_environment(
    method: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if method == "nkey":
        seed = nkeys.encode_seed(secrets.token_bytes(32), nkeys.PREFIX_BYTE_USER)
        public = nkeys.from_seed(seed).public_key.decode()
        (tmp_path / "user.nk").write_bytes(seed)
        monkeypatch.setenv("PASSERELLE_NATS_NKEY_SEED_FILE", str(tmp_path / "user.nk"))
        config = f'authorization {{ users = [ {{ nkey: "{public}" }} ] }}\n'
    else:
        token = "t" + secrets.token_hex(16)
        monkeypatch.setenv("PASSERELLE_NATS_TOKEN", token)
        config = f'authorization {{ token: "{token}" }}\n'
    (tmp_path / "nats.conf").write_text(config)
    server = EmbeddedNats(store_dir=tmp_path / "nats", port=free_port(), config_file=tmp_path / "nats.conf")
    await server.start()
    try:
        settings = PlatformSettings(nats_url=server.url)  # everything else from the environment
        tool = await nats.connect(server.url, **nats_connect_options(settings))  # provisioning, DLQ tools
        broker, _ = make_broker(settings, "members")  # a service
        await broker.connect()
        received = await tool.subscribe("_INBOX_members.ping")
        # nats-py's flush() puts its PING ahead of a SUB still waiting to be written, so the server
        # may not know the subscription yet: publish again until one copy comes through.
        for _ in range(20):
            await broker.publish(b"hello", "_INBOX_members.ping")
            try:
                message = await received.next_msg(timeout=0.25)
            except NatsTimeoutError:
                continue
            assert message.data == b"hello"
            break
        else:
            pytest.fail("the service's publication never reached the tool")
        await broker.stop()
        await tool.close()
        with pytest.raises(NatsError):
            await nats.connect(server.url, allow_reconnect=False, connect_timeout=2)  # no credentials
    finally:
        await server.stop()
