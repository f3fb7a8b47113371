"""Who is calling: JWT bearer tokens (HS256 in development, RS256 through JWKS in production)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt.types import Options

from .problems import Problem
from .settings import PlatformSettings

ROLES = frozenset({"member", "territory_manager", "community_manager", "operator"})


@dataclass(frozen=True)
class Identity:
    sub: str
    roles: frozenset[str]

    @property
    def is_operator(self) -> bool:
        return "operator" in self.roles

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class Authenticator:
    def __init__(self, settings: PlatformSettings) -> None:
        self.secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        self.audience = settings.jwt_audience
        self.issuer = settings.jwt_issuer
        self.jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True) if settings.jwks_url else None
        if not self.secret and not self.jwks:
            raise ValueError("set PASSERELLE_JWT_SECRET (development) or PASSERELLE_JWKS_URL (production)")

    def identify(self, token: str) -> Identity:
        try:
            claims = self._decode(token)
        except jwt.PyJWTError as error:
            raise Problem(401, "Unauthorized", f"invalid token: {error}") from error
        sub, roles = claims.get("sub"), claims.get("roles", [])
        if not isinstance(sub, str) or not sub:
            raise Problem(401, "Unauthorized", "the token has no subject (sub)")
        if isinstance(roles, str):
            roles = roles.split()
        return Identity(sub=sub, roles=frozenset(role for role in roles if role in ROLES))

    def _decode(self, token: str) -> dict[str, Any]:
        options: Options = {"require": ["sub", "exp"], "verify_aud": self.audience is not None}
        if self.jwks:
            key = self.jwks.get_signing_key_from_jwt(token).key
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
        now = int(time.time())
        claims: dict[str, Any] = {"sub": sub, "roles": roles, "iat": now, "exp": now + ttl_seconds}
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
    return authenticator.identify(credentials.credentials)


CurrentIdentity = Annotated[Identity, Depends(authenticate)]
