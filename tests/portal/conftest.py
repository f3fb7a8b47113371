"""The portal in a real browser: one platform (the real nats-server and PostgreSQL) served over HTTP
and one Chromium for the whole session; each test opens its own browser contexts (cookies)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from passerelle.embedded.ports import free_port
from playwright.async_api import Browser, BrowserContext, Playwright, async_playwright

from ..harness import Databases, Platform, reset_streams, settings_for, start_platform

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


def chromium_path() -> str | None:
    """Debian's chromium (what `make browser` installs), else Playwright's own (`playwright install`)."""
    return (
        os.environ.get("PASSERELLE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )


class Site:
    def __init__(self, platform: Platform, url: str) -> None:
        self.platform, self.url = platform, url


@pytest.fixture(scope="session")
async def site(
    nats_url: str, databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Site]:
    await reset_streams(nats_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PASSERELLE_DEV_LOGIN", "true")
        platform = await start_platform(
            settings_for(nats_url, mail_dir=tmp_path_factory.mktemp("portal-mail")), databases
        )
    transport = platform.http._transport
    app = transport.app  # type: ignore[attr-defined]
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.05)
    try:
        yield Site(platform, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        await serving
        await platform.stop()


@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as running:
        yield running


@pytest.fixture(scope="session")
async def browser(playwright: Playwright) -> AsyncIterator[Browser]:
    """Chromium, or a failure saying why: the browser tests never skip."""
    path = chromium_path()
    try:
        launched = await playwright.chromium.launch(executable_path=path)
    except Exception as error:
        pytest.fail(
            f"no Chromium could start ({path or 'Playwright-managed'}): {error}\n"
            "install it with `make browser` (Debian's chromium) or `playwright install chromium`",
            pytrace=False,
        )
    yield launched
    await launched.close()


@pytest.fixture
async def contexts(browser: Browser) -> AsyncIterator[list[BrowserContext]]:
    """Browser contexts the test opens (`await open_context(...)`), closed after it."""
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        await context.close()
