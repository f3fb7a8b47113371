"""Another team's consumer, declared by the operator, on a real nats-server loaded with the generated
authorization: it reads the events it was given, and is refused everything else."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.errors import Error as NatsError
from nats.js.api import ConsumerConfig
from passerelle.contracts import MemberErased, SkillOfferWithdrawn, envelope
from passerelle.embedded.nats import EmbeddedNats
from passerelle.embedded.ports import free_port
from passerelle.messaging.authorization import (
    ADMIN,
    all_permissions,
    load_external_consumers,
    password_variable,
    render_server_config,
)
from passerelle.messaging.topology import TopologySettings, provision
from passerelle.runtime.service import consumed_events

from ..harness import eventually

CONSUMER = "ngo-dashboard"
DURABLE = f"{CONSUMER}__MemberErased_v1"


@pytest.fixture
async def nats_with_consumer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[str, dict[str, str]]]:
    declared = tmp_path / "consumers.toml"
    declared.write_text(f'[[consumer]]\nname = "{CONSUMER}"\nevents = ["{MemberErased.type_name()}"]\n')
    external = load_external_consumers(declared, consumed_events())
    passwords = {p.user: "p" + secrets.token_hex(16) for p in all_permissions(consumed_events(), external)}
    for user, password in passwords.items():
        monkeypatch.setenv(password_variable(user), password)
    config = tmp_path / "nats.conf"
    config.write_text(render_server_config(consumed_events(), external))
    server = EmbeddedNats(store_dir=tmp_path / "nats", port=free_port(), config_file=config)
    await server.start()
    try:
        admin = await nats.connect(server.url, user=ADMIN, password=passwords[ADMIN])
        await provision(admin.jetstream(), TopologySettings(), consumed_events())
        for event in (MemberErased(member_id="m-1"), SkillOfferWithdrawn(offer_id="o-1", member_id="m-1")):
            sent = envelope(event)
            await admin.jetstream().publish(
                event.subject, sent.to_json(), stream="MEMBERS", headers=sent.nats_headers()
            )
        await admin.close()
        yield server.url, passwords
    finally:
        await server.stop()


async def test_a_declared_consumer_reads_its_events_and_may_publish_nothing_into_a_stream(
    nats_with_consumer: tuple[str, dict[str, str]],
) -> None:
    url, passwords = nats_with_consumer
    violations: list[str] = []

    async def on_error(error: Exception) -> None:
        violations.append(str(error).lower())

    connection = await nats.connect(
        url, user=CONSUMER, password=passwords[CONSUMER], inbox_prefix=f"_INBOX_{CONSUMER}", error_cb=on_error
    )
    try:
        js = connection.jetstream(timeout=10)  # a loaded CI machine answers slowly
        # A refused request gets no answer: it times out, and the server reports the violation.
        refusing = connection.jetstream(timeout=2)
        with pytest.raises((NatsError, asyncio.TimeoutError)):  # its own durable, on an event not given
            await refusing.add_consumer(
                "MEMBERS", ConsumerConfig(name=DURABLE, filter_subject=SkillOfferWithdrawn.subject)
            )
        reader = await js.pull_subscribe(MemberErased.subject, DURABLE, stream="MEMBERS")
        (message,) = await reader.fetch(1, timeout=15)
        assert message.subject == MemberErased.subject and message.headers is not None
        await message.ack_sync()  # answered once the server has the ack
        assert (await js.consumer_info("MEMBERS", DURABLE)).num_ack_pending == 0

        forged = envelope(MemberErased(member_id="m-2"))
        with pytest.raises((NatsError, asyncio.TimeoutError)):
            await refusing.publish(MemberErased.subject, forged.to_json(), stream="MEMBERS")
        with pytest.raises((NatsError, asyncio.TimeoutError)):  # an event it was not given
            await refusing.pull_subscribe(
                SkillOfferWithdrawn.subject, DURABLE.replace("Erased", "X"), stream="MEMBERS"
            )
        with pytest.raises((NatsError, asyncio.TimeoutError)):  # a service's durable
            await refusing.consumer_info("MEMBERS", "matching__MemberErased_v1")
        await connection.subscribe("members.>")
        await connection.flush()
        # The server reports each refusal as it comes, others (the JetStream API's) among them.
        refused = (f'publish to "{MemberErased.subject}"', 'subscription to "members.>"')
        await eventually(lambda: _value(all(any(r in v for v in violations) for r in refused)))
    finally:
        await connection.close()
    admin = await nats.connect(url, user=ADMIN, password=passwords[ADMIN])
    try:
        assert (await admin.jetstream().stream_info("MEMBERS")).state.messages == 2  # nothing got in
    finally:
        await admin.close()


async def _value(value: bool) -> bool:
    return value
