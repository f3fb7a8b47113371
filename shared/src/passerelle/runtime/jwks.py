"""The identity provider's signing keys (JWKS), fetched without blocking the event loop.

The key set is kept `max_age` seconds; a token signed with a key it does not hold fetches it again
(at most once per `refetch_interval`, so tokens with made-up key ids cannot hammer the provider).
When the provider does not answer, the key set it gave last is kept: a short outage of the identity
provider does not sign everybody out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import jwt
import structlog

log = structlog.get_logger(__name__)


class KeysUnavailable(Exception):
    """No key set could be fetched, and none is kept from before."""


class JwksKeys:
    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        max_age: float = 300.0,
        refetch_interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.max_age = max_age
        self.refetch_interval = refetch_interval
        self.clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # when the provider last answered
        self._tried_at: float | None = None  # when we last asked it
        self._lock = asyncio.Lock()

    async def signing_key(self, token: str) -> jwt.PyJWK:
        """The key the token says it is signed with (its `kid`); jwt.PyJWTError if there is none,
        KeysUnavailable if the provider never answered."""
        kid = jwt.get_unverified_header(token).get("kid")
        key = self._find(kid) if self._fresh() else None
        if key is None:
            await self._refresh(kid)
            key = self._find(kid)
        if key is None:
            raise jwt.InvalidKeyError(f"no signing key {kid!r} in the identity provider's key set")
        return key

    def _find(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None and len(self._keys) == 1:  # a provider with one key may leave `kid` out
            return next(iter(self._keys.values()))
        return self._keys.get(kid or "")

    def _fresh(self) -> bool:
        return self._fetched_at is not None and self.clock() - self._fetched_at < self.max_age

    async def _refresh(self, kid: str | None) -> None:
        async with self._lock:  # requests that arrive meanwhile share this fetch
            if self._fresh() and self._find(kid) is not None:
                return
            now = self.clock()
            # Asked a moment ago (for an unknown key, or while the provider is down): not again yet.
            if self._tried_at is None or now - self._tried_at >= self.refetch_interval:
                self._tried_at = now
                await self._fetch(now)
            if not self._keys:
                raise KeysUnavailable("the identity provider's keys could not be fetched yet")

    async def _fetch(self, now: float) -> None:
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                response = await http.get(self.url)
                response.raise_for_status()
                key_set = jwt.PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as error:
            log.warning("jwks.unreachable", url=self.url, error=repr(error), kept=len(self._keys))
            return
        self._keys = {key.key_id or "": key for key in key_set.keys}
        self._fetched_at = now
