"""What an operator sees on /metrics, on the real servers: an event stuck in the outbox ages, a dead
letter raises the DLQ depth, a durable nobody consumes shows its lag."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from passerelle.contracts import MatchProposed, MemberErased
from passerelle.messaging.unit_of_work import no_repository
from passerelle.runtime.auth import Authenticator
from passerelle.runtime.http import build_http_app
from passerelle.runtime.service import ServiceApp
from prometheus_client.parser import text_string_to_metric_families

from ..harness import Databases, eventually, settings_for
from .scenario import match_proposed

MATCHES = "notifications__MatchProposed_v1"


class Clock:
    """The time the metrics see; a test moves it forward."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def samples(text: str, name: str) -> Iterator[tuple[dict[str, str], float]]:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                yield sample.labels, sample.value


class Scraper:
    def __init__(self, service: ServiceApp) -> None:
        self.service = service
        self.clock = service.metrics.clock = Clock()
        app = build_http_app([service], Authenticator(service.settings))
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://metrics.test")

    async def scrape(self) -> str:
        self.clock.advance(5)  # past the refresh interval: each scrape reads the servers again
        response = await self.http.get("/metrics")
        assert response.status_code == 200
        return response.text

    async def value(self, name: str, **labels: str) -> float | None:
        wanted = {"service": self.service.name, **labels}
        found = [value for got, value in samples(await self.scrape(), name) if got == wanted]
        return found[0] if found else None


@pytest.fixture
async def members(clean_nats: str, databases: Databases) -> AsyncIterator[ServiceApp]:
    """Members connected to NATS, its relay not running: what it records stays in the outbox."""
    service = ServiceApp("members", settings_for(clean_nats), await databases.fresh("members"))
    await service.broker.connect()
    try:
        yield service
    finally:
        await service.stop()


async def test_an_event_stuck_in_the_outbox_shows_its_age_growing_until_the_relay_sends_it(
    members: ServiceApp,
) -> None:
    metrics = Scraper(members)
    assert await metrics.value("passerelle_outbox_events") == 0
    assert await metrics.value("passerelle_outbox_oldest_event_age_seconds") == 0

    for _ in range(3):
        async with members.units(no_repository)() as uow:
            uow.record(MemberErased(member_id=f"m-{uuid.uuid4()}"))
            await uow.commit()
    assert await metrics.value("passerelle_outbox_events") == 3
    first = await metrics.value("passerelle_outbox_oldest_event_age_seconds")
    assert first is not None
    metrics.clock.advance(120)
    later = await metrics.value("passerelle_outbox_oldest_event_age_seconds")
    assert later is not None
    assert later - first == pytest.approx(125)  # the 120 s waited and the scrape's own 5

    members.relay.start()

    async def relayed() -> bool:
        return await metrics.value("passerelle_outbox_events") == 0

    await eventually(relayed)
    assert await metrics.value("passerelle_outbox_oldest_event_age_seconds") == 0
    assert await metrics.value("passerelle_metrics_source_up", source="database") == 1


@pytest.fixture
async def idle_notifications(clean_nats: str, databases: Databases) -> AsyncIterator[ServiceApp]:
    """Notifications connected to NATS, consuming nothing."""
    service = ServiceApp("notifications", settings_for(clean_nats), await databases.fresh("notifications"))
    await service.broker.connect()
    try:
        yield service
    finally:
        await service.stop()


async def publish_matches(service: ServiceApp, count: int) -> None:
    js = service.broker.connection.jetstream()
    for _ in range(count):
        headers = {"Nats-Msg-Id": str(uuid.uuid4()), "content-type": "application/cloudevents+json"}
        await js.publish(
            MatchProposed.subject, match_proposed().to_json(), headers=headers, stream="MATCHING"
        )


async def test_a_durable_nobody_consumes_shows_its_lag_per_durable(idle_notifications: ServiceApp) -> None:
    metrics = Scraper(idle_notifications)
    lag = {"stream": "MATCHING", "durable": MATCHES}
    assert await metrics.value("passerelle_consumer_lag_messages", **lag) == 0

    await publish_matches(idle_notifications, 3)

    assert await metrics.value("passerelle_consumer_lag_messages", **lag) == 3
    assert await metrics.value("passerelle_consumer_ack_pending_messages", **lag) == 0
    others = [
        value
        for labels, value in samples(await metrics.scrape(), "passerelle_consumer_lag_messages")
        if labels["durable"] != MATCHES
    ]
    assert others
    assert set(others) == {0}


@pytest.fixture
async def failing_notifications(clean_nats: str, databases: Databases) -> AsyncIterator[ServiceApp]:
    """Notifications whose handling of MatchProposed always fails: each one ends in the DLQ."""
    service = ServiceApp(
        "notifications", settings_for(clean_nats, retry_delays=[0.1]), await databases.fresh("notifications")
    )

    @service.consumers.on(MatchProposed)
    async def fail(*_: object) -> None:
        raise ConnectionError("the mail relay is down")

    await service.start()
    try:
        yield service
    finally:
        await service.stop()


async def test_a_dead_letter_raises_the_dlq_depth_of_its_consumer(failing_notifications: ServiceApp) -> None:
    metrics = Scraper(failing_notifications)
    assert await metrics.value("passerelle_dlq_messages", consumer=MATCHES) == 0

    await publish_matches(failing_notifications, 2)

    async def depth() -> float | None:
        value = await metrics.value("passerelle_dlq_messages", consumer=MATCHES)
        return value if value == 2 else None

    assert await eventually(depth) == 2
    assert await metrics.value("passerelle_dlq_messages", consumer="notifications__outbox") == 0
