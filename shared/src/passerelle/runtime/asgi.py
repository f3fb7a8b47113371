"""Pure ASGI middlewares around every service's routes: they run before any handler, cost nothing
per request beyond a look at the headers, and never buffer more than the body limit.

From the outside in: the correlation id; the catch-all that turns any unexpected error into a
problem+json 500; the guard of paths and query strings; the cap on request bodies."""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import parse_qsl

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from passerelle.contracts import correlation_id
from passerelle.contracts.types import ID_MAX_LENGTH, one_line

from .problems import PROBLEM_JSON, excerpt, problem_body

log = structlog.get_logger(__name__)

# A caller's correlation id travels in every event of the request: short and plain, or replaced.
_CORRELATION_ID = re.compile(rf"^[A-Za-z0-9._:\-]{{1,{ID_MAX_LENGTH}}}$")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def send_problem(scope: Scope, send: Send, status: int, title: str, detail: str) -> None:
    body = json.dumps(problem_body(status, title, detail, scope.get("path", ""))).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Correlation:
    """Every request gets a correlation id (the caller's X-Correlation-Id, or a new one): bound in the
    logs, carried by the events it causes, and sent back in the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-correlation-id")
        value = given if given and _CORRELATION_ID.match(given) else str(uuid.uuid4())

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"x-correlation-id", value.encode())],
                }
            await send(message)

        token = correlation_id.set(value)
        try:
            with structlog.contextvars.bound_contextvars(correlation_id=value):
                await self.app(scope, receive, with_header)
        finally:
            correlation_id.reset(token)


class UnexpectedErrors:
    """Any error no handler expected is logged with its traceback and answered with a problem+json
    500 that shows neither the traceback nor the input. It is not raised further, so the server
    keeps the connection open for the caller's next request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:  # the last line of defence: logged and answered, never lost
            log.exception("http.unexpected_error", method=scope.get("method"), path=excerpt(scope["path"]))
            if not started:
                await send_problem(
                    scope, send, 500, "Internal Server Error", "the request could not be completed"
                )


class TextGuard:
    """Paths and query strings with NUL, control characters, line separators or lone surrogates are a
    400 before any route runs: no id, code or filter ever holds them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            # Decoded the way Starlette decodes them for the routes.
            query = parse_qsl(bytes(scope["query_string"]).decode("latin-1"), keep_blank_values=True)
            try:
                for text in (scope["path"], *(part for pair in query for part in pair)):
                    one_line(text)
            except ValueError as error:
                await send_problem(scope, send, 400, "Bad Request", f"the path or query string {error}")
                return
        await self.app(scope, receive, send)


class BodyLimit:
    """Request bodies above `max_bytes` are a 413, whether announced by Content-Length or streamed in
    chunks; the body is read here (at most `max_bytes`) and handed on whole."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        announced = _header(scope, b"content-length")
        if announced is not None and not (announced.isascii() and announced.isdigit()):
            await send_problem(scope, send, 400, "Bad Request", "Content-Length is not a number")
            return
        if announced is not None and int(announced) > self.max_bytes:
            await self._too_large(scope, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        detail = f"the request body is larger than {self.max_bytes} bytes"
        await send_problem(scope, send, 413, "Content Too Large", detail)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read already, then whatever the server says next (a disconnect)."""
    delivered = False

    async def replayed() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
