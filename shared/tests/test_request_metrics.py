"""Each request is counted and timed by its route template, and logged in one line."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from passerelle.runtime.http import harden
from passerelle.settings import PlatformSettings
from prometheus_client import REGISTRY
from structlog.testing import capture_logs


def app() -> FastAPI:
    application = FastAPI()
    harden(application, PlatformSettings())

    @application.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"thing_id": thing_id}

    @application.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    return application


def count(route: str, status: str) -> float:
    labels = {"method": "GET", "route": route, "status": status}
    return REGISTRY.get_sample_value("passerelle_http_requests_total", labels) or 0.0


async def test_requests_are_counted_by_route_template_and_status_and_logged_once() -> None:
    before = {
        key: count(*key) for key in (("/things/{thing_id}", "200"), ("/broken", "500"), ("unmatched", "404"))
    }
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://unit.test") as http:
        with capture_logs() as logs:
            for thing in ("a", "b"):
                assert (await http.get(f"/things/{thing}")).status_code == 200
            assert (await http.get("/broken")).status_code == 500
            assert (await http.get("/nowhere/at/all")).status_code == 404
    assert count("/things/{thing_id}", "200") - before[("/things/{thing_id}", "200")] == 2
    assert count("/broken", "500") - before[("/broken", "500")] == 1
    assert count("unmatched", "404") - before[("unmatched", "404")] == 1
    lines = [entry for entry in logs if entry["event"] == "http.request"]
    assert [(e["method"], e["route"], e["status"]) for e in lines] == [
        ("GET", "/things/{thing_id}", 200),
        ("GET", "/things/{thing_id}", 200),
        ("GET", "/broken", 500),
        ("GET", "unmatched", 404),
    ]
    assert all(entry["duration_ms"] >= 0 for entry in lines)
