"""Who is calling: JWT bearer tokens (HS256 in development, RS256 through JWKS in production)."""

from __future__ import annotations

import time
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt.types import Options

from passerelle.identity import Identity, identity_fault, roles_of
from passerelle.settings import PlatformSettings

from .jwks import JwksKeys, KeysUnavailable
from .problems import Problem


class Authenticator:
    def __init__(self, settings: PlatformSettings) -> None:
        self.secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        self.audience = settings.jwt_audience
        self.issuer = settings.jwt_issuer
        self.roles_claim = settings.jwt_roles_claim.split(".")
        self.jwks = (
            JwksKeys(settings.jwks_url, timeout=settings.jwks_timeout, max_age=settings.jwks_cache)
            if settings.jwks_url
            else None
        )
        if not self.secret and not self.jwks:
            raise ValueError("set PASSERELLE_JWT_SECRET (development) or PASSERELLE_JWKS_URL (production)")

    async def identify(self, token: str) -> Identity:
        try:
            claims = await self._decode(token)
        except jwt.PyJWTError as error:
            raise Problem(401, "Unauthorized", f"invalid token: {error}") from error
        except KeysUnavailable as error:
            raise Problem(503, "Service Unavailable", f"tokens cannot be checked now: {error}") from error
        sub = claims.get("sub")
        fault = identity_fault(sub)
        if fault is not None:
            raise Problem(401, "Unauthorized", f"the token's subject (sub) is not a valid identity: {fault}")
        assert isinstance(sub, str)
        roles = roles_of(self._roles_claim(claims))
        if roles is None:
            claim = ".".join(self.roles_claim)
            raise Problem(
                401, "Unauthorized", f"the token's roles claim ({claim}) is not a list of role names"
            )
        return Identity(sub=sub, roles=roles)

    def _roles_claim(self, claims: dict[str, Any]) -> object:
        """The claim at the configured dotted path (Keycloak: `realm_access.roles`); none is no role."""
        value: object = claims
        for name in self.roles_claim:
            if not isinstance(value, dict) or name not in value:
                return []
            value = value[name]
        return value

    async def _decode(self, token: str) -> dict[str, Any]:
        options: Options = {"require": ["sub", "exp"], "verify_aud": self.audience is not None}
        if self.jwks:
            key = (await self.jwks.signing_key(token)).key
            return jwt.decode(
                token, key, algorithms=["RS256"], audience=self.audience, issuer=self.issuer, options=options
            )
        assert self.secret is not None
        return jwt.decode(
            token,
            self.secret,
            algorithms=["HS256"],
            audience=self.audience,
            issuer=self.issuer,
            options=options,
        )

    def issue(self, sub: str, roles: list[str], ttl_seconds: int = 7 * 24 * 3600) -> str:
        """A development token signed with the HS256 secret."""
        if not self.secret:
            raise ValueError("issuing tokens needs PASSERELLE_JWT_SECRET")
        fault = identity_fault(sub)
        if fault is not None:
            raise ValueError(f"{sub!r} cannot be a token's subject: {fault}")
        now = int(time.time())
        claims: dict[str, Any] = {"sub": sub, "iat": now, "exp": now + ttl_seconds}
        *parents, name = self.roles_claim  # where identify will look for them
        place = claims
        for parent in parents:
            place = place.setdefault(parent, {})
        place[name] = roles
        if self.audience:
            claims["aud"] = self.audience
        if self.issuer:
            claims["iss"] = self.issuer
        return jwt.encode(claims, self.secret, algorithm="HS256")


_bearer = HTTPBearer(auto_error=False, description="A JWT with claims `sub` and `roles`")


async def authenticate(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Identity:
    if credentials is None:
        raise Problem(401, "Unauthorized", "send Authorization: Bearer <JWT>")
    authenticator: Authenticator = request.app.state.authenticator
    return await authenticator.identify(credentials.credentials)


CurrentIdentity = Annotated[Identity, Depends(authenticate)]
