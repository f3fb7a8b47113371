"""OpenID Connect against the operator's identity provider (Keycloak, Entra ...): the authorization
code flow with PKCE (S256), with Authlib. Imported only where an issuer is configured."""

from __future__ import annotations

from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client

from .config import PortalSettings


def _client(settings: PortalSettings, redirect_uri: str) -> AsyncOAuth2Client:
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
    return AsyncOAuth2Client(
        client_id=settings.oidc_client_id,
        client_secret=secret,
        scope=settings.oidc_scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )


async def discover(issuer: str) -> dict[str, Any]:
    """The provider's endpoints (OpenID Connect Discovery)."""
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
        answer.raise_for_status()
        return dict(answer.json())


async def authorization(
    settings: PortalSettings, metadata: dict[str, Any], redirect_uri: str
) -> tuple[str, str, str]:
    """Where to send the browser, with the state and PKCE verifier to keep in the session."""
    verifier = generate_token(48)
    async with _client(settings, redirect_uri) as oauth:
        url, state = oauth.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier
        )
    return url, state, verifier


async def access_token(
    settings: PortalSettings, metadata: dict[str, Any], redirect_uri: str, code: str, verifier: str
) -> str:
    async with _client(settings, redirect_uri) as oauth:
        token = await oauth.fetch_token(metadata["token_endpoint"], code=code, code_verifier=verifier)
    return str(token["access_token"])
