"""`passerelle up` as an operator runs it, driven only through HTTP, watched from outside on NATS."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jwt
import nats
import pytest
from passerelle.contracts import EVENTS_BY_TYPE, envelope_type
from passerelle.embedded.ports import free_port
from sqlalchemy.engine import make_url

from ..harness import eventually

SECRET = "e2e-secret-that-is-long-enough-for-hs256"


def token(sub: str, *roles: str) -> dict[str, str]:
    claims = {"sub": sub, "roles": list(roles) or ["member"], "exp": 4102444800}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


async def _drop_platform_databases(server_url: str) -> None:
    url = make_url(server_url)
    admin = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, database="postgres"
    )
    try:
        for service in ("members", "projects", "matching", "notifications"):
            await admin.execute(f'DROP DATABASE IF EXISTS "passerelle_{service}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def platform_up(clean_nats: str, postgres_url: str, tmp_path: Path) -> AsyncIterator[str]:
    await _drop_platform_databases(postgres_url)
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "passerelle.cli",
        "up",
        "--data-dir",
        str(tmp_path),
        "--nats-url",
        clean_nats,
        "--database-url",
        postgres_url,
        "--port",
        str(port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PASSERELLE_JWT_SECRET": SECRET, "PASSERELLE_LOG_LEVEL": "WARNING"},
    )
    assert process.stdout is not None
    ready = ""
    while not ready.startswith("ready "):
        line = await asyncio.wait_for(process.stdout.readline(), 120)
        assert line, "passerelle up exited before it was ready"
        ready = line.decode().strip()
    fields = dict(part.split("=", 1) for part in ready.split()[1:])
    assert fields["nats"] == clean_nats
    try:
        yield fields["api"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 60) == 0, "passerelle up did not stop cleanly"


class OutsideConsumer:
    """What another team's service sees: every event on the four streams, with its headers."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def start(self, nats_url: str) -> None:
        self.connection = await nats.connect(nats_url)
        js = self.connection.jetstream()
        for subjects in ("members.>", "projects.>", "matching.>", "notifications.>"):
            await js.subscribe(subjects, ordered_consumer=True, cb=self._received)

    async def _received(self, message: Any) -> None:
        self.messages.append(message)

    def of_type(self, name: str) -> list[Any]:
        return [m for m in self.messages if json.loads(m.data)["type"] == f"passerelle.{name}.v1"]


async def test_the_slice_through_passerelle_up_publishes_contract_events(
    platform_up: str, clean_nats: str
) -> None:
    outside = OutsideConsumer()
    await outside.start(clean_nats)
    async with httpx.AsyncClient(base_url=platform_up, timeout=30) as http:

        async def post(path: str, sub: str, body: dict | None = None, *roles: str) -> dict:
            response = await http.post(path, json=body, headers=token(sub, *roles))
            assert response.status_code in (200, 201), f"{path}: {response.status_code} {response.text}"
            return response.json()

        assert (await http.get("/healthz")).json() == {"status": "ok"}
        assert (await http.get("/readyz")).status_code == 200
        assert (await http.post("/members", json={})).status_code == 401

        tafraout = await post(
            "/territories", "op", {"name": "Tafraout", "country": "MA", "level": "commune"}, "operator"
        )
        profile = {
            "kind": "person",
            "display_name": "Fatima El Amrani",
            "email": "fatima@example.org",
            "locale": "fr",
            "country_of_residence": "BE",
            "time_zone": "Europe/Brussels",
            "languages": ["fr", "ar"],
            "attachments": [{"territory_id": tafraout["territory_id"], "bond": "origin"}],
            "sectors": ["health"],
        }
        await post("/members", "fatima", profile)
        await post("/members", "amina", {**profile, "display_name": "Amina", "email": "amina@example.org"})
        await post(
            f"/territories/{tafraout['territory_id']}/managers",
            "op",
            {"sub": "amina", "role": "territory_manager"},
            "operator",
        )
        offer = await post(
            "/members/fatima/offers",
            "fatima",
            {"skill": "health.nurse_training", "level": 4, "modes": ["short_mission"]},
        )
        project = await post(
            "/projects",
            "amina",
            {
                "territory_id": tafraout["territory_id"],
                "title": "Health post",
                "summary": "Train nurses.",
                "sector": "health",
                "languages": ["fr"],
                "needs": [
                    {"skill": "health.nurse_training", "min_level": 3, "mode": "short_mission", "count": 1}
                ],
            },
        )
        await post(f"/projects/{project['project_id']}/publish", "amina")

        async def notified() -> list:
            response = await http.get(
                "/notifications", params={"member_id": "fatima"}, headers=token("fatima")
            )
            return [n for n in response.json() if n["kind"] == "match_proposed"]

        [notification] = await eventually(notified, timeout=30)
        assert "Health post" in notification["title"]

        def delivered() -> set[str]:
            return {
                json.loads(m.data)["subject"] for m in outside.of_type("notifications.NotificationDelivered")
            }

        await eventually(lambda: asyncio.sleep(0, notification["notification_id"] in delivered()))
        metrics = (await http.get("/metrics")).text
        assert "passerelle_outbox_published_total" in metrics
        assert "matching.MatchProposed" in json.dumps((await http.get("/asyncapi.json")).json())
    await outside.connection.close()

    expected = {
        "members.MemberRegistered": ("passerelle/members", {"fatima", "amina"}),
        "members.SkillOffered": ("passerelle/members", {"fatima"}),
        "projects.TerritoryRegistered": ("passerelle/projects", {tafraout["territory_id"]}),
        "projects.ProjectPublished": ("passerelle/projects", {project["project_id"]}),
        "matching.MatchProposed": ("passerelle/matching", None),
        "notifications.NotificationDelivered": ("passerelle/notifications", None),  # welcomes too
    }
    for name, (source, subjects) in expected.items():
        messages = outside.of_type(name)
        assert messages, f"no {name} event was published"
        for message in messages:
            body = json.loads(message.data)
            event_type = EVENTS_BY_TYPE[body["type"]]
            envelope_type(event_type).model_validate(body)  # the whole envelope keeps the contract
            assert message.subject == event_type.subject
            assert message.headers["Nats-Msg-Id"] == body["id"]
            assert message.headers["content-type"] == "application/cloudevents+json"
            assert body["specversion"] == "1.0" and body["source"] == source
            assert body["datacontenttype"] == "application/json"
            assert body["time"].endswith("Z") and datetime.fromisoformat(body["time"])
            if subjects is not None:
                assert body["subject"] in subjects

    [offered] = [json.loads(m.data)["data"] for m in outside.of_type("members.SkillOffered")]
    assert offered == {
        **offered,
        "offer_id": offer["offer_id"],
        "member_id": "fatima",
        "skill": "health.nurse_training",
        "level": 4,
        "modes": ["short_mission"],
    }
    [published] = [json.loads(m.data)["data"] for m in outside.of_type("projects.ProjectPublished")]
    assert (
        published["owner_member_id"] == "amina" and published["needs"][0]["skill"] == "health.nurse_training"
    )
    [proposed] = [json.loads(m.data) for m in outside.of_type("matching.MatchProposed")]
    assert proposed["subject"] == proposed["data"]["match_id"]
    assert proposed["data"]["offer_id"] == offer["offer_id"] and proposed["data"]["member_id"] == "fatima"
    assert (
        proposed["data"]["project_id"] == project["project_id"]
        and "skill_exact" in proposed["data"]["reasons"]
    )
    [delivered] = [
        json.loads(m.data)["data"]
        for m in outside.of_type("notifications.NotificationDelivered")
        if json.loads(m.data)["subject"] == notification["notification_id"]
    ]
    assert delivered["cause_event_id"] == proposed["id"] and delivered["channel"] == "inbox"
