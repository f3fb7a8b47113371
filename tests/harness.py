"""A running platform for integration tests: the four services in-process on the real servers."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import nats
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError, ServerError
from passerelle.contracts import STREAMS
from passerelle.messaging.connection import nats_connect_options
from passerelle.messaging.topology import TopologySettings, provision
from passerelle.runtime.auth import Authenticator
from passerelle.runtime.http import build_http_app
from passerelle.runtime.service import ServiceApp, consumed_events, load_services
from passerelle.settings import PlatformSettings
from sqlalchemy.engine import make_url

T = TypeVar("T")
_database_numbers = itertools.count(1)


async def eventually(probe: Callable[[], Awaitable[T]], timeout: float = 45.0, interval: float = 0.1) -> T:
    """The probe's first truthy answer; fails with the last answer when time runs out (generous:
    a loaded CI machine can be several times slower than a quiet one)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"not true within {timeout}s; last answer: {result!r}")
        await asyncio.sleep(interval)


def settings_for(nats_url: str, **overrides: Any) -> PlatformSettings:
    values: dict[str, Any] = {
        "nats_url": nats_url,
        "jwt_secret": "integration-test-secret-of-32-bytes-or-more",
        "retry_delays": [0.2, 0.4, 0.8],
        "consumer_ack_wait": 10.0,
        "log_json": False,
        "mail_dir": Path(tempfile.mkdtemp(prefix="passerelle-test-mail-")),
        "dispatch_interval": 0.1,
        "delivery_retry_delays": [0.2, 0.4],
        **overrides,
    }
    return PlatformSettings(**values)


async def _admin(server_url: str) -> asyncpg.Connection:
    url = make_url(server_url)
    return await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, database="postgres"
    )


class Databases:
    """Fresh, migrated databases for each test, cloned from templates migrated once per session."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.templates: dict[str, str] = {}
        self.created: list[str] = []

    def url(self, name: str) -> str:
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    async def prepare_templates(self) -> None:
        from passerelle.runtime.platform import prepare_database

        for definition in load_services():
            name = f"template_{definition.name}"
            admin = await _admin(self.server_url)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()
            await prepare_database(definition, self.url(name))
            self.templates[definition.name] = name

    async def fresh(self, service: str) -> str:
        name = f"test_{next(_database_numbers)}_{service}"
        self.created.append(name)
        admin = await _admin(self.server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.templates[service]}"')
        finally:
            await admin.close()
        return self.url(name)

    async def drop_created(self, since: int = 0) -> None:
        """Drop the databases made after the first `since`."""
        names, self.created = self.created[since:], self.created[:since]
        if not names:
            return
        admin = await _admin(self.server_url)
        try:
            for name in names:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


STREAM_STORE_FAILED = 10049


async def reset_streams(nats_url: str, settings: TopologySettings | None = None) -> None:
    """Every test starts with empty streams and freshly provisioned durables."""
    connection = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=3)
    try:
        js = connection.jetstream()
        for stream in STREAMS:
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(stream.name)
        for attempt in range(10):
            try:
                await provision(js, settings or TopologySettings(), consumed_events())
                return
            except ServerError as error:
                # nats-server removes a deleted stream's files in the background; recreating it at
                # once sometimes fails on a loaded machine (10049 "error creating store for stream").
                if error.err_code != STREAM_STORE_FAILED or attempt == 9:
                    raise
                await asyncio.sleep(0.2)
    finally:
        await connection.close()


async def stream_messages(js: JetStreamContext, stream: str) -> list[Any]:
    """Every message stored in a stream, in order (headers, subject and data)."""
    info = await js.stream_info(stream)
    messages = []
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        if info.state.messages == 0:
            break
        messages.append(await js.get_msg(stream, seq=sequence))
    return messages


@dataclass
class Platform:
    settings: PlatformSettings
    services: dict[str, ServiceApp]
    http: httpx.AsyncClient
    authenticator: Authenticator
    nats: nats.NATS
    database_urls: dict[str, str] = field(default_factory=dict)

    @property
    def js(self) -> JetStreamContext:
        return self.nats.jetstream()

    def as_(self, sub: str, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.authenticator.issue(sub, list(roles) or ['member'])}"}

    async def call(
        self, method: str, path: str, sub: str, *roles: str, expect: int | None = None, **kwargs: Any
    ) -> Any:
        response = await self.http.request(method, path, headers=self.as_(sub, *roles), **kwargs)
        if expect is not None:
            assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    async def drained(self, stream: str, durable: str, delivered: int = 1) -> bool:
        """Whether the durable has been delivered at least `delivered` messages and acknowledged all."""
        info = await self.js.consumer_info(stream, durable)
        return info.delivered.stream_seq >= delivered and info.num_ack_pending == 0 and info.num_pending == 0

    async def events(self, stream: str) -> list[dict[str, Any]]:
        return [json.loads(message.data) for message in await stream_messages(self.js, stream)]

    async def published(self, stream: str, name: str, count: int = 1) -> list[dict[str, Any]]:
        """The stream's events of type `name` (e.g. MemberErased), once at least `count` are there."""
        owner = stream.lower()

        async def found() -> list[dict[str, Any]]:
            wanted = f"passerelle.{owner}.{name}.v1"
            events = [event for event in await self.events(stream) if event["type"] == wanted]
            return events if len(events) >= count else []

        return await eventually(found)

    async def stop(self) -> None:
        await self.http.aclose()
        for service in self.services.values():
            await service.stop()
        await self.nats.close()


async def start_platform(
    settings: PlatformSettings,
    databases: Databases,
    database_urls: dict[str, str] | None = None,
    settings_of: Callable[[str], PlatformSettings] | None = None,
) -> Platform:
    """All four services, started on the given servers (fresh databases unless some are given;
    `settings_of(service)` gives a service settings of its own, e.g. its NATS credentials)."""
    services: dict[str, ServiceApp] = {}
    urls = dict(database_urls or {})
    definitions = load_services()
    missing = [definition.name for definition in definitions if definition.name not in urls]
    # Concurrently: each waits mostly on PostgreSQL or on nats-server's JetStream API.
    urls.update(zip(missing, await asyncio.gather(*(databases.fresh(name) for name in missing)), strict=True))
    for definition in definitions:
        own = settings_of(definition.name) if settings_of else settings
        services[definition.name] = definition.build(own, urls[definition.name])
    await asyncio.gather(*(service.start() for service in services.values()))
    authenticator = Authenticator(settings)
    app = build_http_app(list(services.values()), authenticator)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://passerelle.test")
    observer = await nats.connect(settings.nats_url, **nats_connect_options(settings))
    return Platform(settings, services, http, authenticator, observer, urls)
