"""Where the tests find NATS and PostgreSQL, in this order: the PASSERELLE_TEST_* URLs, testcontainers
when a Docker engine answers, else the embedded servers from the wheels. If none starts, the tests
error: they never skip for want of a server."""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import nats
from passerelle.embedded.nats import EmbeddedNats
from passerelle.embedded.ports import free_port
from passerelle.embedded.postgres import EmbeddedPostgres

NATS_IMAGE = "nats:2.11-alpine"
POSTGRES_IMAGE = "postgres:17-alpine"


def docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


async def check_nats(url: str) -> str:
    """Fail at once, with the reason, when the NATS server cannot be reached."""
    try:
        # nats-py retries a first connection however it is configured: bound the wait ourselves.
        connection = await asyncio.wait_for(
            nats.connect(url, connect_timeout=5, max_reconnect_attempts=1), 15
        )
    except Exception as error:
        raise RuntimeError(f"NATS at {url} cannot be reached: {error!r}") from error
    await connection.close()
    return url


@asynccontextmanager
async def nats_server() -> AsyncIterator[str]:
    if url := os.environ.get("PASSERELLE_TEST_NATS_URL"):
        yield await check_nats(url)
    elif docker_answers():
        from testcontainers.community.nats import NatsContainer

        with NatsContainer(NATS_IMAGE, jetstream=True) as container:
            yield container.nats_uri()
    else:
        with tempfile.TemporaryDirectory(prefix="passerelle-test-nats-") as store:
            server = EmbeddedNats(store_dir=Path(store), port=free_port())
            await server.start()
            try:
                yield server.url
            finally:
                await server.stop()


@asynccontextmanager
async def postgres_server() -> AsyncIterator[str]:
    """Yields a URL (postgresql+asyncpg) of a server on which the tests may create databases."""
    if url := os.environ.get("PASSERELLE_TEST_DATABASE_URL"):
        yield url
    elif docker_answers():
        from testcontainers.community.postgres import PostgresContainer

        with PostgresContainer(POSTGRES_IMAGE, driver="asyncpg") as container:
            yield container.get_connection_url()
    else:
        with tempfile.TemporaryDirectory(prefix="passerelle-test-pg-") as data:
            # A password, as under `up`: nobody else on the machine logs in to the tests' server.
            server = EmbeddedPostgres(
                data_dir=Path(data) / "pg", port=free_port(), durable=False, password=secrets.token_hex(16)
            )
            await server.start()
            try:
                yield server.url()
            finally:
                await server.stop()
