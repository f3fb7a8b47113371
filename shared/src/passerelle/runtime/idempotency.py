"""`Idempotency-Key` on the routes that create things (contract 4.1): the same key and body again get
the first answer (same status and body) with no second effect; the same key with another body is a
422; concurrent requests with one key make one effect.

A key belongs to its caller (the token's `sub`) and route (method and path template). The answer is
stored in the service's own database, in the transaction of the effect (passerelle.messaging.idempotency),
so that a crash leaves both or neither. Only successful answers are kept: a refused request changed
nothing, and the same request again is tried again.

A service adopts it in two lines: `create_idempotency_table(op)` (passerelle.messaging.migrations) in
one of its migrations, and `dependencies=[IDEMPOTENT]` on each creating route.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from passerelle.messaging.idempotency import KeyedRequest, Replay, RequestKey, StoredAnswer, keyed_request

from .auth import CurrentIdentity
from .problems import Problem

HEADER = b"idempotency-key"
MAX_KEY_LENGTH = 255


def _canonical(body: bytes) -> bytes:
    """A JSON body as its content, so that the same body sent with other spacing is the same request."""
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        return body


async def idempotency_key(
    request: Request,
    identity: CurrentIdentity,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="A new key per intended creation (e.g. a UUID); a retry sends the same key and body",
        ),
    ] = None,
) -> None:
    if key is None:
        return
    if not 0 < len(key) <= MAX_KEY_LENGTH or not all("!" <= character <= "~" for character in key):
        raise Problem(
            400, "Bad Request", f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters"
        )
    keyed = keyed_request.get()
    if keyed is None:
        raise RuntimeError("Idempotency-Key needs the IdempotentRequests middleware (runtime.http.harden)")
    route = getattr(request.scope.get("route"), "path", request.url.path)
    fingerprint = hashlib.sha256(request.url.path.encode() + b"\n" + _canonical(await request.body()))
    keyed.key = RequestKey(identity.sub, f"{request.method} {route}", key, fingerprint.hexdigest())


# On a creating route: `@router.post("/things", status_code=201, dependencies=[IDEMPOTENT])`.
IDEMPOTENT = Depends(idempotency_key)


class IdempotentRequests:
    """Around a request that sends an `Idempotency-Key`: the answer is held back until it is stored
    with the effect (a caller never sees an answer that a crash could undo), and a replay is sent as
    it was first sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not any(name == HEADER for name, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return
        keyed = KeyedRequest()
        held: list[Message] = []
        holding = False

        async def hold(message: Message) -> None:
            nonlocal holding
            # Held only when a unit of work ran in the request's transaction: else nothing to store.
            holding = holding or (message["type"] == "http.response.start" and keyed.session is not None)
            if holding:
                held.append(message)
            else:
                await send(message)

        token = keyed_request.set(keyed)
        try:
            await self.app(scope, receive, hold)
        except Replay as replay:
            await keyed.abandon()
            await _replay(send, replay.answer)
            return
        except BaseException:
            await keyed.abandon()
            raise
        finally:
            keyed_request.reset(token)
        if holding:
            await keyed.finish(_answer(held))
            for message in held:
                await send(message)


def _answer(messages: list[Message]) -> StoredAnswer:
    start = messages[0]
    headers = {bytes(name).lower(): bytes(value) for name, value in start.get("headers", [])}
    body = b"".join(message.get("body", b"") for message in messages[1:])
    content_type = headers.get(b"content-type", b"application/json").decode("latin-1")
    return StoredAnswer(status=start["status"], content_type=content_type, body=body)


async def _replay(send: Send, answer: StoredAnswer) -> None:
    headers = [
        (b"content-type", answer.content_type.encode("latin-1")),
        (b"content-length", str(len(answer.body)).encode()),
        (b"idempotent-replayed", b"true"),
    ]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
