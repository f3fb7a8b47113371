"""Idempotent requests (contract 4.1, `Idempotency-Key`): one transaction holds a request's effect and
the answer it got, so that the same request again gets that answer instead of a second effect.

The HTTP layer (passerelle.runtime.idempotency) opens a `KeyedRequest` for a request that sends the
header; the first unit of work of the request joins it (`joined`): it locks the key, replays the
stored answer if there is one, and otherwise runs inside the request's transaction, which commits
with the answer once the response is ready. Use cases notice nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy import (
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.errors import RuleBroken
from passerelle.persistence.database import Database
from passerelle.persistence.stored_answers import RETENTION, answers


class KeyReused(RuleBroken):
    """The key came with another request (422): a client bug, never a retry."""


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    content_type: str
    body: bytes


class Replay(Exception):  # not an error: the answer to send instead of running the request
    """Raised where the request's first unit of work begins: the answer this key already got."""

    def __init__(self, answer: StoredAnswer) -> None:
        super().__init__(f"replayed answer {answer.status}")
        self.answer = answer


@dataclass(frozen=True)
class RequestKey:
    caller: str
    route: str
    key: str
    fingerprint: str


@dataclass
class KeyedRequest:
    """One HTTP request sent with an `Idempotency-Key`; `key` is set once the route's dependency has
    read the header and the caller."""

    key: RequestKey | None = None
    database: Database | None = None
    session: AsyncSession | None = None
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    after_rollback: list[Callable[[], None]] = field(default_factory=list)

    async def join(self, database: Database) -> AsyncSession | None:
        """The session a unit of work on `database` runs in: the request's own, locked on its key,
        once the key is known; None for a request without one, or a second database."""
        if self.key is None or (self.database is not None and self.database is not database):
            return None
        if self.session is None:
            self.database, self.session = database, database.sessions()
            await self.session.begin()
            await self._claim(self.session, self.key)
        return self.session

    @staticmethod
    async def _claim(session: AsyncSession, key: RequestKey) -> None:
        """Wait for any other request with this key to end, then replay its answer if it committed."""
        lock = func.hashtextextended(f"{key.caller}\n{key.route}\n{key.key}", 0)
        await session.execute(select(func.pg_advisory_xact_lock(lock)))
        await session.execute(delete(answers).where(answers.c.created_at < func.now() - RETENTION))
        found = (
            await session.execute(
                select(answers.c.fingerprint, answers.c.status, answers.c.content_type, answers.c.body).where(
                    answers.c.caller == key.caller, answers.c.route == key.route, answers.c.key == key.key
                )
            )
        ).first()
        if found is None:
            return
        if found.fingerprint != key.fingerprint:
            raise KeyReused("Idempotency-Key: this key was already used with another request")
        raise Replay(StoredAnswer(found.status, found.content_type, found.body))

    async def finish(self, answer: StoredAnswer) -> None:
        """Keep a successful answer with the effect, in one commit; anything else changes nothing."""
        if self.session is None or self.key is None:
            return
        committed = False
        try:
            if 200 <= answer.status < 300:
                key = self.key
                await self.session.execute(
                    insert(answers).values(
                        caller=key.caller,
                        route=key.route,
                        key=key.key,
                        fingerprint=key.fingerprint,
                        status=answer.status,
                        content_type=answer.content_type,
                        body=answer.body,
                    )
                )
                await self.session.commit()
                committed = True
                callbacks, self.after_commit, self.after_rollback = self.after_commit, [], []
                for callback in callbacks:
                    callback()
        finally:
            await self.session.close()
            if not committed:
                self._rolled_back()

    async def abandon(self) -> None:
        if self.session is not None:
            await self.session.close()
        self._rolled_back()

    def _rolled_back(self) -> None:
        callbacks, self.after_commit, self.after_rollback = self.after_rollback, [], []
        for callback in callbacks:
            callback()


# The keyed request being served, if any (set by the HTTP layer around each request).
keyed_request: ContextVar[KeyedRequest | None] = ContextVar("keyed_request", default=None)


async def joined(database: Database) -> KeyedRequest | None:
    """The keyed request a unit of work on `database` joins, its session ready; None otherwise."""
    request = keyed_request.get()
    if request is None or await request.join(database) is None:
        return None
    return request
