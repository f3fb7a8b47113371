"""The portal's session: a signed cookie (HttpOnly, SameSite=Lax, Secure outside loopback) holding
who signed in, their token and the CSRF token every form carries back."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "passerelle_session"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class Session(dict[str, Any]):
    """What the cookie holds; `changed` says whether the answer must send it again."""

    changed = False

    def set(self, **values: Any) -> None:
        self.update(values)
        self.changed = True

    def end(self) -> None:
        self.clear()
        self.changed = True

    @property
    def csrf(self) -> str:
        if "csrf" not in self:
            self.set(csrf=secrets.token_urlsafe(32))
        return str(self["csrf"])

    def csrf_matches(self, given: object) -> bool:
        return isinstance(given, str) and "csrf" in self and hmac.compare_digest(given, str(self["csrf"]))


class Sessions:
    def __init__(self, secret: str, hours: int) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="passerelle-portal-session")
        self._max_age = hours * 3600

    def load(self, request: Request) -> Session:
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                return Session(self._signer.loads(raw, max_age=self._max_age))
            except BadSignature:
                pass  # expired or forged: a new, empty session
        return Session()

    def store(self, request: Request, response: Response, session: Session) -> None:
        if not session.changed:
            return
        secure = request.url.hostname not in LOOPBACK
        if not session:
            response.delete_cookie(COOKIE, path="/app", secure=secure, httponly=True, samesite="lax")
            return
        response.set_cookie(
            COOKIE,
            self._signer.dumps(dict(session)),
            max_age=self._max_age,
            path="/app",
            secure=secure,
            httponly=True,
            samesite="lax",
        )
