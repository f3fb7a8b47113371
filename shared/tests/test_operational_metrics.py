"""/metrics still answers when NATS and the database are down: their figures are left out, and
passerelle_metrics_source_up says which source could not be read."""

from __future__ import annotations

import httpx
from passerelle.embedded.ports import free_port
from passerelle.runtime.auth import Authenticator
from passerelle.runtime.http import build_http_app
from passerelle.runtime.service import ServiceApp
from passerelle.settings import PlatformSettings
from prometheus_client.parser import text_string_to_metric_families

OPERATIONAL = {
    "passerelle_metrics_source_up",
    "passerelle_outbox_events",
    "passerelle_outbox_oldest_event_age_seconds",
    "passerelle_dlq_messages",
    "passerelle_consumer_lag_messages",
    "passerelle_consumer_ack_pending_messages",
}


async def test_a_scrape_with_nats_and_the_database_down_answers_and_says_both_are_down() -> None:
    nowhere = free_port()  # nothing listens there
    settings = PlatformSettings(
        nats_url=f"nats://127.0.0.1:{nowhere}", jwt_secret="unit-test-secret-of-32-bytes-at-least"
    )
    service = ServiceApp("members", settings, f"postgresql+asyncpg://members@127.0.0.1:{nowhere}/members")
    app = build_http_app([service], Authenticator(settings))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://unit.test") as http:
        response = await http.get("/metrics")
    await service.database.dispose()

    assert response.status_code == 200
    samples = {
        (sample.name, sample.labels.get("source")): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name in OPERATIONAL and sample.labels.get("service") == "members"
    }
    assert samples == {
        ("passerelle_metrics_source_up", "database"): 0,
        ("passerelle_metrics_source_up", "nats"): 0,
    }
