"""RS256 tokens checked against an identity provider's JWKS, here a stand-in server: its slowness
never holds up other requests, a short outage keeps the key set fetched before, and the roles may
sit where Keycloak puts them."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from passerelle.runtime.auth import Authenticator, CurrentIdentity
from passerelle.runtime.http import build_http_app
from passerelle.settings import PlatformSettings

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = "signing-key-1"


@dataclass
class IdentityProvider:
    """Serves its JWKS once `gate` is open; `down` answers 503 instead."""

    gate: threading.Event = field(default_factory=threading.Event)
    asked: threading.Event = field(default_factory=threading.Event)
    down: bool = False
    requests: int = 0
    url: str = ""

    def key_set(self) -> bytes:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
        return json.dumps({"keys": [{**public, "kid": KID, "use": "sig", "alg": "RS256"}]}).encode()


@contextmanager
def identity_provider() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    provider.gate.set()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            provider.requests += 1
            provider.asked.set()
            provider.gate.wait(30)
            body = b"down" if provider.down else provider.key_set()
            self.send_response(503 if provider.down else 200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        provider.gate.set()
        server.shutdown()
        server.server_close()


def token(claims: dict[str, Any], kid: str = KID) -> str:
    now = int(time.time())
    return jwt.encode({"iat": now, "exp": now + 600, **claims}, KEY, algorithm="RS256", headers={"kid": kid})


def bearer(claims: dict[str, Any], kid: str = KID) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(claims, kid)}"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Api:
    http: httpx.AsyncClient
    authenticator: Authenticator
    provider: IdentityProvider
    clock: Clock


def api_app(authenticator: Authenticator, settings: PlatformSettings) -> FastAPI:
    app = build_http_app([], authenticator, settings)

    @app.get("/me")
    async def me(identity: CurrentIdentity) -> dict[str, Any]:
        return {"sub": identity.sub, "roles": sorted(identity.roles)}

    return app


@pytest.fixture(params=["roles"])
async def api(request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    with identity_provider() as provider:
        settings = PlatformSettings(jwks_url=provider.url, jwt_roles_claim=request.param)
        authenticator = Authenticator(settings)
        clock = Clock()
        assert authenticator.jwks is not None
        authenticator.jwks.clock = clock
        transport = httpx.ASGITransport(app=api_app(authenticator, settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            yield Api(http, authenticator, provider, clock)


async def test_other_requests_are_answered_while_the_identity_provider_is_slow_to_give_its_keys(
    api: Api,
) -> None:
    api.provider.gate.clear()  # the provider holds its answer
    signed_in = asyncio.create_task(
        api.http.get("/me", headers=bearer({"sub": "fatima", "roles": ["member"]}))
    )
    assert await asyncio.to_thread(api.provider.asked.wait, 30)

    health = await api.http.get("/healthz")

    assert health.status_code == 200
    assert not signed_in.done()  # still waiting for the keys, without holding anything else up
    api.provider.gate.set()
    answer = await signed_in
    assert answer.status_code == 200
    assert answer.json() == {"sub": "fatima", "roles": ["member"]}


async def test_the_key_set_fetched_before_is_kept_while_the_identity_provider_is_down(api: Api) -> None:
    claims = {"sub": "fatima", "roles": ["member"]}
    assert (await api.http.get("/me", headers=bearer(claims))).status_code == 200
    assert (await api.http.get("/me", headers=bearer(claims))).status_code == 200
    assert api.provider.requests == 1  # kept, not fetched for each request

    api.provider.down = True
    api.clock.now += 301  # the key set is stale: it is asked for again, and the provider fails

    assert (await api.http.get("/me", headers=bearer(claims))).status_code == 200
    assert api.provider.requests == 2
    unknown = await api.http.get("/me", headers=bearer(claims, kid="someone-elses-key"))
    assert unknown.status_code == 401
    assert "someone-elses-key" in unknown.json()["detail"]


async def test_without_any_key_set_yet_a_token_is_answered_503_and_not_let_in(api: Api) -> None:
    api.provider.down = True

    answer = await api.http.get("/me", headers=bearer({"sub": "fatima", "roles": ["member"]}))

    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("api", ["realm_access.roles"], indirect=True)
async def test_a_keycloak_token_gives_the_roles_of_its_realm_access(api: Api) -> None:
    keycloak = {
        "sub": "0b5f2b8e-6c1d-4f0e-9a7b-3c2d1e0f9a8b",
        "preferred_username": "amina",
        "realm_access": {"roles": ["territory_manager", "offline_access", "uma_authorization"]},
        "resource_access": {"account": {"roles": ["manage-account"]}},
        "roles": ["operator"],  # not where this deployment reads them
    }

    answer = await api.http.get("/me", headers=bearer(keycloak))

    assert answer.status_code == 200
    assert answer.json()["roles"] == ["territory_manager"]
    no_roles = await api.http.get("/me", headers=bearer({"sub": "amina"}))
    assert no_roles.json()["roles"] == []


async def test_development_tokens_carry_their_roles_where_the_roles_claim_path_says() -> None:
    settings = PlatformSettings(
        jwt_secret="unit-test-secret-of-32-bytes-or-more!", jwt_roles_claim="realm_access.roles"
    )
    authenticator = Authenticator(settings)

    issued = authenticator.issue("amina", ["operator"])

    assert jwt.decode(issued, options={"verify_signature": False})["realm_access"] == {"roles": ["operator"]}
    assert (await authenticator.identify(issued)).roles == {"operator"}
