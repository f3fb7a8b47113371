"""Async engines, database URLs and sessions of one service's database; it knows no events (the unit of
work that commits state with the outbox and the inbox is messaging's)."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from asyncpg.exceptions import _base as asyncpg_client
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext import asyncio as sqlalchemy_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

# The time of an erasure tombstone in a read model: later than any fact, so that no late or
# redelivered event about an erased member can bring its data back.
FOREVER = datetime(9999, 1, 1, tzinfo=UTC)


# SQLSTATE class 22, data exception: a value too long, out of range, with a NUL byte, not a number ...
_DATA_EXCEPTION_CLASS = "22"


def refused_by_database(error: BaseException) -> bool:
    """Whether `error` (however SQLAlchemy wraps it) is a value the database refuses (SQLSTATE class
    22) or that asyncpg cannot even send (out of the column type's range): input that would be
    refused again on every try."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, asyncpg_client.DataError):  # asyncpg's client side: never reached the server
            return True
        if str(getattr(cause, "sqlstate", None) or "").startswith(_DATA_EXCEPTION_CLASS):
            return True
        cause = cause.__cause__ or getattr(cause, "orig", None)
    return False


def make_engine(url: str, pool_size: int = 20) -> AsyncEngine:
    """A pool as large as a service's concurrent work (so connections are reused, not reopened).

    No pre-ping: it costs two round trips per checkout (a third of a consumer's). A connection that
    died with its server fails its unit of work instead (a consumer retries it, an HTTP request
    gets an error), and SQLAlchemy then discards the pool's other stale connections.
    """
    # Looked up when called: tracing's SQLAlchemy instrumentation replaces the module's function.
    return sqlalchemy_asyncio.create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800
    )


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    return make_url(url).set(database=database).render_as_string(hide_password=False)


async def ensure_database(url: str) -> None:
    """Create the URL's database if it does not exist (needs CREATEDB on the server)."""
    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database="postgres",
    )
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", parsed.database)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await connection.close()


class Database:
    """One service's database: an engine and the sessions opened on it."""

    def __init__(self, url: str, pool_size: int = 20) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(select(1))

    async def dispose(self) -> None:
        await self.engine.dispose()
