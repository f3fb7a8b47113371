"""Signing in with OpenID Connect: the authorization code flow with PKCE against a provider (here a
small stand-in with the endpoints Keycloak or Entra publish), its access token then checked like the
APIs check it."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from passerelle.embedded.ports import free_port
from passerelle.runtime.http import harden
from passerelle.settings import PlatformSettings
from portal.app import build_portal
from portal.config import PortalSettings

CLIENT_ID = "passerelle-portal"


def provider(issuer: str) -> FastAPI:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    challenges: dict[str, str] = {}
    app = FastAPI()

    @app.get("/.well-known/openid-configuration")
    async def discovery() -> dict[str, str]:
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks",
        }

    @app.get("/authorize")
    async def authorize(
        redirect_uri: str, state: str, code_challenge: str, code_challenge_method: str, client_id: str
    ) -> RedirectResponse:
        assert code_challenge_method == "S256" and client_id == CLIENT_ID
        challenges["code-1"] = code_challenge
        return RedirectResponse(f"{redirect_uri}?{urlencode({'code': 'code-1', 'state': state})}")

    @app.post("/token")
    async def token(request: Request) -> dict[str, Any]:
        sent = await request.form()
        code, code_verifier = str(sent["code"]), str(sent["code_verifier"])
        digest = (
            base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
        )
        assert challenges.pop(code) == digest, "the PKCE verifier matches the challenge"
        claims = {"sub": "nadia", "roles": ["member"], "iss": issuer, "exp": int(time.time()) + 300}
        signed = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
        return {"access_token": signed, "token_type": "Bearer", "expires_in": 300}

    @app.get("/jwks")
    async def jwks() -> dict[str, Any]:
        return {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}

    return app


@contextmanager
def serving_in_a_thread(app: FastAPI, port: int) -> Iterator[None]:
    """The provider apart from the test's event loop: the JWKS is fetched synchronously (PyJWT)."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join()


@asynccontextmanager
async def serving(app: FastAPI, port: int) -> AsyncIterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await task


async def test_signing_in_goes_through_the_provider_with_pkce_and_keeps_its_token_for_the_apis() -> None:
    issuer = f"http://127.0.0.1:{free_port()}"
    portal_url = f"http://127.0.0.1:{free_port()}"
    settings = PlatformSettings(jwks_url=f"{issuer}/jwks", jwt_issuer=issuer)
    _, router = build_portal(
        settings,
        PortalSettings(
            oidc_issuer=issuer,
            oidc_client_id=CLIENT_ID,
            session_secret="a-session-secret-for-this-test-only",
            api_url=f"{portal_url}/no-api",
        ),
    )
    portal = FastAPI()
    harden(portal, settings)
    portal.include_router(router)

    with serving_in_a_thread(provider(issuer), int(urlparse(issuer).port or 0)):
        async with (
            serving(portal, int(urlparse(portal_url).port or 0)),
            httpx.AsyncClient(base_url=portal_url) as browser,
        ):
            to_provider = await browser.get("/app/login?next=/app/me")
            assert to_provider.status_code == 303
            asked = parse_qs(urlparse(to_provider.headers["location"]).query)
            assert asked["code_challenge_method"] == ["S256"] and asked["response_type"] == ["code"]
            back = await browser.get(to_provider.headers["location"])
            signed_in = await browser.get(back.headers["location"])

            assert signed_in.status_code == 303
            assert signed_in.headers["location"] == "/app/register", (
                "nadia is not a member yet: she registers"
            )
            forged = await browser.get("/app/login/callback", params={"code": "code-1", "state": "another"})
            assert forged.status_code == 403, "a callback without the state of this session is refused"
