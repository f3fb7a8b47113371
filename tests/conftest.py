"""Integration and end-to-end fixtures: the real nats-server and the real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from passerelle.runtime.logging import configure_logging

from .harness import Databases, Platform, reset_streams, settings_for, start_platform
from .servers import nats_server, postgres_server

configure_logging("WARNING", json=False)


@pytest.fixture(scope="session")
async def nats_url() -> AsyncIterator[str]:
    async with nats_server() as url:
        yield url


@pytest.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str]:
    async with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
async def databases(postgres_url: str) -> Databases:
    databases = Databases(postgres_url)
    await databases.prepare_templates()
    return databases


@pytest.fixture(autouse=True)
async def _drop_test_databases(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """The databases a test made for itself go after it: a suite's thousands would cost PostgreSQL
    tens of GB. (Fixtures of a wider scope, such as the browser tests' platform, made theirs before.)"""
    if "databases" not in request.fixturenames:
        yield
        return
    databases: Databases = request.getfixturevalue("databases")
    kept = len(databases.created)
    yield
    await databases.drop_created(since=kept)


@pytest.fixture
async def clean_nats(nats_url: str) -> str:
    await reset_streams(nats_url)
    return nats_url


@pytest.fixture
async def platform(clean_nats: str, databases: Databases, tmp_path: Path) -> AsyncIterator[Platform]:
    running = await start_platform(settings_for(clean_nats, mail_dir=tmp_path / "mail"), databases)
    try:
        yield running
    finally:
        await running.stop()
