"""Behind a TLS proxy, the Link header of a page points where the caller came from: https."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request, Response
from passerelle.runtime.http import harden
from passerelle.runtime.pagination import describe_page
from passerelle.settings import PlatformSettings


def paged_app(trusted: str) -> FastAPI:
    app = FastAPI()
    harden(app, PlatformSettings(forwarded_allow_ips=trusted))

    @app.get("/things")
    async def things(request: Request, response: Response) -> list[int]:
        describe_page(request, response, total=30, limit=10, offset=0, shown=10)
        return list(range(10))

    return app


async def next_link(app: FastAPI) -> str:
    transport = httpx.ASGITransport(app=app, client=("10.0.0.5", 4321))
    async with httpx.AsyncClient(transport=transport, base_url="http://passerelle.example.org") as http:
        response = await http.get("/things", headers={"X-Forwarded-Proto": "https"})
    return response.headers["link"]


async def test_a_trusted_proxys_forwarded_proto_makes_the_next_link_https() -> None:
    link = await next_link(paged_app("10.0.0.0/8"))
    assert link.startswith("<https://passerelle.example.org/things?")


async def test_an_untrusted_client_cannot_change_the_scheme() -> None:
    assert (await next_link(paged_app("127.0.0.1"))).startswith("<http://passerelle.example.org/things?")
