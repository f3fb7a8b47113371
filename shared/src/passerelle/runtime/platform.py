"""Running services: the whole platform on one machine (`up`, `demo`), or one service (`serve`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import structlog
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr, ValidationError

from passerelle.embedded.credentials import (
    NATS_ADMIN_URL_FILE,
    POSTGRES_ADMIN_URL_FILE,
    LocalCredentials,
    private_directory,
    read_or_create_secret,
    user_url,
    without_secret,
    write_private,
)
from passerelle.embedded.nats import EmbeddedNats
from passerelle.embedded.ports import preferred_or_free_port
from passerelle.errors import BadConfiguration
from passerelle.messaging.authorization import (
    ADMIN,
    ExternalConsumer,
    all_permissions,
    load_external_consumers,
    password_variable,
    render_server_config,
)
from passerelle.messaging.connection import connect_tool
from passerelle.messaging.topology import TopologySettings, provision
from passerelle.messaging.tracing import configure_tracing
from passerelle.persistence.database import ensure_database, with_database
from passerelle.persistence.migrations import upgrade
from passerelle.settings import PlatformSettings

from .auth import Authenticator
from .http import build_http_app
from .service import ServiceApp, ServiceDefinition, consumed_events, load_services

log = structlog.get_logger(__name__)


async def provision_nats(settings: PlatformSettings, replicas: int = 1) -> list[str]:
    connection = await connect_tool(settings)
    try:
        topology = TopologySettings(
            duplicate_window=settings.duplicate_window,
            ack_wait=settings.consumer_ack_wait,
            replicas=replicas,
            max_age=settings.stream_max_age,
        )
        return await provision(connection.jetstream(), topology, consumed_events())
    finally:
        await connection.close()


async def prepare_database(definition: ServiceDefinition, database_url: str) -> None:
    await ensure_database(database_url)
    await asyncio.to_thread(upgrade, definition.migrations, database_url)


def service_database_name(service: str) -> str:
    """On a shared server, each service gets its own database; on the embedded one, also its own
    role of the same name, which owns it."""
    return f"passerelle_{service}"


def service_database_url(server_url: str, service: str) -> str:
    return with_database(server_url, service_database_name(service))


def jwt_secret_for(data_dir: Path) -> SecretStr:
    """The development signing secret kept in the data dir, so `passerelle token` can sign for `up`."""
    return SecretStr(read_or_create_secret(data_dir / "jwt-secret", lambda: secrets.token_urlsafe(48)))


def external_consumers(settings: PlatformSettings) -> list[ExternalConsumer]:
    """Other teams' consumers declared in PASSERELLE_NATS_CONSUMERS_FILE, if any."""
    path = settings.nats_consumers_file
    try:
        return load_external_consumers(path, consumed_events()) if path else []
    except ValueError as error:
        raise BadConfiguration(f"PASSERELLE_NATS_CONSUMERS_FILE: {error}") from error


async def start_embedded_nats(
    data_dir: Path, credentials: LocalCredentials, external: Sequence[ExternalConsumer]
) -> EmbeddedNats:
    """A nats-server that knows only the users of `passerelle nats auth-config`, with their permissions;
    the configuration names the passwords as variables, given to the server in its environment. Each
    declared consumer finds its own URL, with its credentials, in `DIR/nats-<name>.url`."""
    config = data_dir / "nats.conf"
    write_private(config, render_server_config(consumed_events(), external))
    environment = {password_variable(user): password for user, password in credentials.nats.items()}
    server = EmbeddedNats(store_dir=data_dir / "nats", port=4222, config_file=config, environment=environment)
    await server.start()
    write_private(data_dir / NATS_ADMIN_URL_FILE, user_url(server.url, ADMIN, credentials.nats[ADMIN]) + "\n")
    for consumer in external:
        url = user_url(server.url, consumer.name, credentials.nats[consumer.name])
        write_private(data_dir / f"nats-{consumer.name}.url", url + "\n")
    return server


class EmbeddedServer(Protocol):
    async def stop(self) -> None: ...


@dataclass
class RunningPlatform:
    settings: PlatformSettings
    services: list[ServiceApp]
    app: FastAPI
    authenticator: Authenticator
    embedded: list[EmbeddedServer] = field(default_factory=list)

    async def stop(self) -> None:
        for service in reversed(self.services):
            await service.stop()
        for server in reversed(self.embedded):
            await server.stop()


# Where `passerelle taxonomy import-esco --data-dir DIR` writes, and `up --data-dir DIR` reads.
TAXONOMY_FILE_NAME = "taxonomy.json"


async def start_platform(
    settings: PlatformSettings,
    *,
    database_url: str | None,
    embedded_nats: bool,
    service_names: Sequence[str] | None = None,
) -> RunningPlatform:
    """Start the embedded servers that are needed, provision, migrate, and start the services.

    Embedded servers accept only the credentials generated in the data dir: on NATS one user per
    service (and an admin, who provisions), on PostgreSQL one role per service database.
    """
    configure_tracing(settings, "passerelle")
    embedded: list[EmbeddedServer] = []
    data_dir = private_directory(settings.data_dir.resolve())
    definitions = load_services(list(service_names) if service_names else None)
    settings = _with_data_dir_defaults(settings, data_dir)
    external = external_consumers(settings) if embedded_nats else []
    credentials = LocalCredentials.load_or_create(
        data_dir,
        nats_users=[permissions.user for permissions in all_permissions(consumed_events(), external)]
        if embedded_nats
        else [],
        postgres_roles=[service_database_name(d.name) for d in definitions] if database_url is None else [],
    )
    try:
        if embedded_nats:
            server = await start_embedded_nats(data_dir, credentials, external)
            embedded.append(server)
            if server.port != 4222:
                print(f"port 4222 is taken: nats listens on {server.port}", flush=True)
            settings = settings.model_copy(update={"nats_url": server.url, **_nats_login(ADMIN, credentials)})
        if database_url is None:
            from passerelle.embedded.postgres import SUPERUSER, EmbeddedPostgres

            postgres = EmbeddedPostgres(
                data_dir=data_dir / "postgres", port=5432, password=credentials.postgres[SUPERUSER]
            )
            embedded.append(postgres)
            await postgres.start()
            if postgres.port != 5432:
                print(f"port 5432 is taken: postgres listens on {postgres.port}", flush=True)
            write_private(data_dir / POSTGRES_ADMIN_URL_FILE, postgres.admin_url() + "\n")
            database_urls = {}
            for definition in definitions:
                role = service_database_name(definition.name)  # the role owns the database of the same name
                database_urls[definition.name] = await postgres.ensure_owned_database(
                    role, role, credentials.postgres[role]
                )
        else:
            database_urls = {d.name: service_database_url(database_url, d.name) for d in definitions}
        await provision_nats(settings)
        services = []
        for definition in definitions:
            url = database_urls[definition.name]
            await prepare_database(definition, url)
            # Under one process, each service still connects to NATS as itself.
            own = _nats_login(definition.name, credentials) if embedded_nats else {}
            services.append(definition.build(settings.model_copy(update=own), url))
        for service in services:
            await service.start()
    except BaseException:
        for started in reversed(embedded):
            with contextlib.suppress(Exception):
                await started.stop()
        raise
    authenticator = Authenticator(settings)
    return RunningPlatform(
        settings, services, build_http_app(services, authenticator), authenticator, embedded
    )


def _with_data_dir_defaults(settings: PlatformSettings, data_dir: Path) -> PlatformSettings:
    """The signing secret and the imported taxonomy of the data dir, unless settings name others."""
    if settings.jwt_secret is None and settings.jwks_url is None:
        settings = settings.model_copy(update={"jwt_secret": jwt_secret_for(data_dir)})
    imported_taxonomy = data_dir / TAXONOMY_FILE_NAME
    if settings.taxonomy_file is None and imported_taxonomy.exists():
        settings = settings.model_copy(update={"taxonomy_file": imported_taxonomy})
    return settings


def _nats_login(user: str, credentials: LocalCredentials) -> dict[str, object]:
    return {"nats_user": user, "nats_password": SecretStr(credentials.nats[user])}


class _HttpServer(uvicorn.Server):
    """uvicorn, minus re-raising SIGINT/SIGTERM after its shutdown: that would kill the process before
    the caller stops the services (draining the brokers, stopping the relays and embedded servers)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


async def serve_http(app: FastAPI, host: str, port: int, on_ready: str | None = None) -> None:
    """Serve until SIGINT/SIGTERM; print `on_ready` (with the real port) once listening."""
    server = _HttpServer(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            http="httptools",
            log_config=None,
            lifespan="off",
            timeout_graceful_shutdown=10,
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.05)
    if server.started and on_ready:
        print(on_ready, flush=True)
    await task


def allow_development_sign_in() -> None:
    """The portal's development sign-in belongs to `up` and `demo` only, never beside a real identity
    provider; PASSERELLE_DEV_LOGIN set by hand wins."""
    if "PASSERELLE_OIDC_ISSUER" not in os.environ:
        os.environ.setdefault("PASSERELLE_DEV_LOGIN", "true")


async def up(settings: PlatformSettings, *, nats_url: str | None, database_url: str | None) -> None:
    allow_development_sign_in()
    if nats_url:
        settings = settings.model_copy(update={"nats_url": nats_url})
    platform = await start_platform(settings, database_url=database_url, embedded_nats=nats_url is None)
    try:
        host = settings.host
        port = preferred_or_free_port(host, settings.port)
        if port != settings.port:
            print(f"port {settings.port} is taken: the API listens on {port}", flush=True)
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
        nats_servers = ",".join(without_secret(url) for url in platform.settings.nats_url.split(","))
        ready = (
            f"ready api=http://{shown_host}:{port} portal=http://{shown_host}:{port}/app/ nats={nats_servers}"
        )
        await serve_http(platform.app, host, port, on_ready=ready)
    finally:
        await platform.stop()


async def serve_one(settings: PlatformSettings, definition: ServiceDefinition) -> None:
    """One service, configured by environment, against external NATS and PostgreSQL."""
    service_name = definition.name
    configure_tracing(settings, f"passerelle-{service_name}")
    try:
        service = definition.build(settings, settings.database_url)
        authenticator = Authenticator(settings)
    except ValidationError:
        raise  # the command names each variable
    except ValueError as error:  # a setting the service cannot start with: one line, exit code 5
        raise BadConfiguration(f"{service_name}: {error}") from error
    await service.start()
    try:
        app = build_http_app([service], authenticator)
        await serve_http(
            app,
            settings.host,
            settings.port,
            on_ready=f"ready service={service_name} api=http://{settings.host}:{settings.port}",
        )
    finally:
        await service.stop()
