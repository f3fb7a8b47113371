"""Schema-driven fuzzing of the whole platform's HTTP API (Schemathesis): requests generated from its
own OpenAPI document, valid and invalid, as an operator and as a member, over a real HTTP server
in front of the four services on the real NATS and PostgreSQL. No answer may be a 5xx, and every
error is problem+json. The number of examples is bounded so that the test takes about a minute."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from ..harness import Platform
from .scenario import name_manager, profile, territory

EXAMPLES_PER_OPERATION = 15
# The operations are fuzzed in shards, each its own test, so that each stays well within the per-test
# timeout however many services the platform grows.
SHARDS = 4
SOLAR = "energy.solar_pv_design"
# Operations whose answers are not JSON problems by design, or that stop the fuzzing itself.
NOT_FUZZED = {("GET", "/metrics")}


@dataclass
class Findings:
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def check(self, label: str, status: int, content_type: str, text: str) -> None:
        self.statuses[status] += 1
        if status >= 500:
            self.failures.append(f"{label} -> {status}: {text[:300]}")
        elif status >= 400 and content_type != "application/problem+json":
            self.failures.append(f"{label} -> {status} as {content_type!r}: {text[:200]}")


@pytest.fixture
async def served(platform: Platform) -> AsyncIterator[str]:
    """The platform's app behind a real uvicorn server (Schemathesis sends real HTTP from a thread)."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    app = platform.http._transport.app  # type: ignore[attr-defined]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off", access_log=False))
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


def explore(operation: Any, mode: GenerationMode, known: dict[str, str], send: Callable[[Any], None]) -> None:
    """Hypothesis draws the cases of one operation in one mode (with the path's ids pinned to
    `known` ones, if given); `send` calls and records each."""

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=known or None))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        send(case)

    # An operation without parameters nor body has no invalid variant to generate.
    with contextlib.suppress(Unsatisfiable):
        run()


def fuzz(
    document: dict[str, Any],
    base_url: str,
    identities: dict[str, dict[str, str]],
    ids: dict[str, str],
    shard: int,
) -> Findings:
    schema = schemathesis.openapi.from_dict(document)
    findings = Findings()
    operations = [result.ok() for result in schema.get_all_operations()][shard::SHARDS]
    # Deleting (erasing a member, withdrawing an offer) last, so that the other operations reach
    # the objects that exist.
    operations.sort(key=lambda operation: operation.method.upper() == "DELETE")
    for operation in operations:
        if (operation.method.upper(), operation.path) in NOT_FUZZED:
            continue
        names = [parameter.name for parameter in operation.path_parameters]
        pinned = {name: ids[name] for name in names if name in ids}
        for who, headers in identities.items():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                label = f"{operation.method.upper()} {operation.path} ({mode.value}, {who})"

                def send(case: Any, label: str = label, headers: dict[str, str] = headers) -> None:
                    response = case.call(base_url=base_url, headers=headers, timeout=30)
                    findings.check(
                        f"{label} {case.path_parameters or ''} {case.query or ''} {str(case.body)[:200]}",
                        response.status_code,
                        (response.headers.get("content-type") or [""])[0],
                        response.text,
                    )

                explore(operation, mode, {}, send)
                if pinned and len(pinned) == len(names):
                    explore(operation, mode, pinned, send)
    return findings


@pytest.mark.parametrize("shard", range(SHARDS))
async def test_requests_generated_from_the_openapi_document_never_get_a_5xx_and_errors_are_problems(
    platform: Platform, served: str, shard: int
) -> None:
    member = f"fuzz-member-{shard}"
    tafraout = await territory(platform)
    await name_manager(platform, tafraout, member)
    await platform.call("POST", "/members", member, expect=201, json=profile("Fuzz", tafraout))
    offer = await platform.call(
        "POST",
        f"/members/{member}/offers",
        member,
        expect=201,
        json={"skill": SOLAR, "level": 3, "modes": ["remote"]},
    )
    project = await platform.call(
        "POST",
        "/projects",
        member,
        expect=201,
        json={
            "territory_id": tafraout,
            "title": "Solar health post",
            "summary": "Power the health post.",
            "sector": "energy",
            "needs": [{"skill": SOLAR, "min_level": 3, "mode": "remote"}],
            "funding": {"goal_amount": "1000.00", "currency": "EUR"},
        },
    )
    await platform.call("POST", f"/projects/{project['project_id']}/publish", member, expect=200)
    ids = {
        "member_id": member,
        "offer_id": offer["offer_id"],
        "project_id": project["project_id"],
        "territory_id": tafraout,
        "sub": member,
        "code": SOLAR,
        "service_name": "members",
    }
    document = (await platform.http.get("/openapi.json")).json()
    identities = {
        "operator": platform.as_("fuzz-operator", "operator"),
        "member": platform.as_(member, "member"),
    }
    findings = await asyncio.to_thread(fuzz, document, served, identities, ids, shard)
    print(f"fuzz: {findings.requests} requests, by status {sorted(findings.statuses.items())}")
    assert findings.requests > 1000 // SHARDS
    assert findings.failures == [], "\n".join(findings.failures)
