"""The HTTP layer every service shares: whatever goes wrong, the caller gets a short problem+json,
bodies are bounded, paths and queries hold only text that can be stored, /metrics can be closed."""

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Query
from passerelle.contracts import correlation_id
from passerelle.contracts.types import Line
from passerelle.runtime.auth import Authenticator
from passerelle.runtime.http import build_http_app, harden
from passerelle.settings import PlatformSettings
from pydantic import BaseModel, Field

LIMIT = 64 * 1024


class Body(BaseModel):
    name: Line = Field(max_length=50, pattern=r"^[a-z]+$")
    codes: list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]] = Field(default_factory=list, max_length=5)


def settings(**overrides: object) -> PlatformSettings:
    return PlatformSettings(jwt_secret="unit-test-secret-of-32-bytes-or-more!", **overrides)  # type: ignore[arg-type]


def hardened_app() -> FastAPI:
    app = FastAPI()
    harden(app, settings(max_request_bytes=LIMIT))

    @app.post("/echo")
    async def echo(body: Body) -> dict[str, str]:
        return {"name": body.name}

    @app.get("/items/{item_id}")
    async def item(item_id: str, q: Annotated[str, Query()] = "") -> dict[str, str | None]:
        return {"item_id": item_id, "q": q, "correlation_id": correlation_id.get()}

    @app.get("/decoding")
    async def decoding() -> None:
        b"\xff".decode()  # a server bug, e.g. reading a file in the wrong encoding

    @app.get("/boom")
    async def boom(secret: str = "") -> None:
        raise RuntimeError(f"a bug that must not reach the caller: {secret}")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=hardened_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://unit.test") as http:
        yield http


def is_problem(response: httpx.Response, status: int) -> bool:
    return (
        response.status_code == status
        and response.headers["content-type"] == "application/problem+json"
        and response.json()["status"] == status
    )


async def test_an_unexpected_error_is_a_problem_json_500_without_traceback_or_input(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/boom", params={"secret": "hunter2"})
    assert is_problem(response, 500)
    assert "hunter2" not in response.text and "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    assert response.json()["correlation_id"] == response.headers["x-correlation-id"]  # to find its logs


async def test_a_decoding_bug_in_the_server_is_a_500_not_blamed_on_the_caller(
    client: httpx.AsyncClient,
) -> None:
    assert is_problem(await client.get("/decoding"), 500)


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> bytes:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: unit.test\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.lower().split(b"\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in lines if line.startswith(b"content-length"))
    return head + await reader.readexactly(length)


async def test_after_an_unexpected_error_the_same_connection_serves_the_next_request() -> None:
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(hardened_app(), log_config=None, lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        failed = await _exchange(reader, writer, "/boom")
        assert failed.startswith(b"HTTP/1.1 500") and b"application/problem+json" in failed
        served = await _exchange(reader, writer, "/items/one")
        assert served.startswith(b"HTTP/1.1 200") and b'"item_id":"one"' in served
        writer.close()
    finally:
        server.should_exit = True
        await serving


async def test_a_body_announced_above_the_limit_is_a_413_before_it_is_read(client: httpx.AsyncClient) -> None:
    too_large = b"x" * (LIMIT + 1)
    response = await client.post("/echo", content=too_large, headers={"content-type": "application/json"})
    assert is_problem(response, 413)
    assert len(response.content) < 1000


async def test_a_body_streamed_in_chunks_above_the_limit_is_a_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * (LIMIT // 4)

    response = await client.post("/echo", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert is_problem(response, 413)


async def test_a_body_within_the_limit_reaches_the_route_whole(client: httpx.AsyncClient) -> None:
    padded = json.dumps({"name": "amina"}) + " " * (LIMIT - 100)
    response = await client.post("/echo", content=padded, headers={"content-type": "application/json"})
    assert response.status_code == 200 and response.json() == {"name": "amina"}


async def test_a_content_length_that_is_not_a_number_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo", content=b"{}", headers={"content-length": "²".encode("latin-1")})
    assert is_problem(response, 400)


async def test_an_invalid_body_is_answered_with_a_short_excerpt_never_the_input(
    client: httpx.AsyncClient,
) -> None:
    huge = {"name": "é" * 20_000, "codes": ["no"] * 5_000}
    response = await client.post("/echo", json=huge)
    assert is_problem(response, 422)
    assert len(response.content) < 8_000
    assert "éééééééééé" * 5 not in response.text
    broken = b'{"name": "' + b"a" * 30_000
    not_json = await client.post("/echo", content=broken, headers={"content-type": "application/json"})
    assert is_problem(not_json, 422) and len(not_json.content) < 2_000


@pytest.mark.parametrize(
    "path",
    [
        "/items/a%00b",
        "/items/a%0Ab",
        "/items/a%E2%80%A8b",
        "/items/ok?q=%00",
        "/items/ok?q=a%0D%0Ab",
        "/items/ok?%1B=x",
    ],
)
async def test_paths_and_query_strings_with_nul_or_control_characters_are_a_400(
    client: httpx.AsyncClient, path: str
) -> None:
    assert is_problem(await client.get(path), 400)


async def test_text_in_any_script_passes_the_guard(client: httpx.AsyncClient) -> None:
    response = await client.get("/items/تافراوت", params={"q": "Ἀθῆναι ⵜⴰⴼⵔⴰⵡⵜ"})
    assert response.status_code == 200 and response.json()["q"] == "Ἀθῆναι ⵜⴰⴼⵔⴰⵡⵜ"


async def test_the_caller_s_correlation_id_is_bound_and_sent_back_and_a_strange_one_replaced(
    client: httpx.AsyncClient,
) -> None:
    given = await client.get("/items/one", headers={"X-Correlation-Id": "req-42.a:b"})
    assert given.headers["x-correlation-id"] == "req-42.a:b" == given.json()["correlation_id"]
    strange = await client.get("/items/one", headers={"X-Correlation-Id": "x" * 500})
    assert strange.headers["x-correlation-id"] == strange.json()["correlation_id"]
    assert len(strange.headers["x-correlation-id"]) == 36
    assert (await client.get("/boom")).headers["x-correlation-id"]


async def test_metrics_need_the_bearer_token_once_one_is_set() -> None:
    closed = settings(metrics_token="scrape-me")
    app = build_http_app([], Authenticator(closed), closed)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://unit.test") as http:
        assert is_problem(await http.get("/metrics"), 401)
        assert is_problem(await http.get("/metrics", headers={"Authorization": "Bearer wrong"}), 401)
        allowed = await http.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert allowed.status_code == 200 and "python_info" in allowed.text


async def test_metrics_stay_open_when_no_token_is_set() -> None:
    open_ = settings()
    app = build_http_app([], Authenticator(open_), open_)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://unit.test") as http:
        assert (await http.get("/metrics")).status_code == 200


async def test_a_body_nested_too_deep_to_parse_is_a_4xx_problem(client: httpx.AsyncClient) -> None:
    nested = b"[" * 30_000 + b"]" * 30_000
    response = await client.post("/echo", content=nested, headers={"content-type": "application/json"})
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == "application/problem+json"
