"""The portal's session: a signed cookie (HttpOnly, SameSite=Lax, Secure outside loopback) holding
who signed in, their token and the CSRF token every form carries back. Signing out records the
session's id as ended in the portal's database, so that a copy of the cookie signs in no more."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from passerelle.persistence.database import Database
from sqlalchemy import Column, DateTime, MetaData, String, Table, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "passerelle_session"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


sessions_metadata = MetaData()

ended_sessions = Table(
    "portal_ended_sessions",
    sessions_metadata,
    Column("session_id", String(64), primary_key=True),
    Column("ended_at", DateTime(timezone=True), nullable=False, server_default=func.now(), index=True),
)


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
    """`database` keeps the ids of ended sessions (None: ending a session only drops the cookie)."""

    def __init__(self, secret: str, hours: int, database: Database | None = None) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="passerelle-portal-session")
        self._max_age = hours * 3600
        self._database = database

    async def load(self, request: Request) -> Session:
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                session = Session(self._signer.loads(raw, max_age=self._max_age))
            except BadSignature:
                return Session()  # expired or forged: a new, empty session
            if not await self._ended(session.get("sid")):
                return session
        return Session()

    def start(self, session: Session, **values: Any) -> None:
        """A new signed-in session, with an id of its own."""
        session.set(sid=secrets.token_urlsafe(24), **values)

    async def end(self, session: Session) -> None:
        sid = session.get("sid")
        session.end()
        if self._database is None or not sid:
            return
        async with self._database.engine.begin() as connection:
            await connection.execute(
                pg_insert(ended_sessions).values(session_id=sid).on_conflict_do_nothing()
            )
            # Past the cookie's own age an ended session could not come back anyway.
            await connection.execute(
                delete(ended_sessions).where(
                    ended_sessions.c.ended_at
                    < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, self._max_age)
                )
            )

    async def _ended(self, sid: object) -> bool:
        if self._database is None or not isinstance(sid, str):
            return False
        async with self._database.engine.connect() as connection:
            found = await connection.execute(
                select(ended_sessions.c.session_id).where(ended_sessions.c.session_id == sid)
            )
            return found.first() is not None

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
