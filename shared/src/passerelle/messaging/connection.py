"""How a service authenticates to NATS, from the environment; how a tool connects, briefly."""

import asyncio

import nats
from faststream.nats.security import NatsCredentials, NatsNKey, NatsSecurity, NatsToken, NatsUserPassword
from nats.aio.client import Client

from passerelle.embedded.credentials import without_secret
from passerelle.errors import Unreachable
from passerelle.settings import PlatformSettings

# A tool (provisioning, the DLQ) answers its operator in seconds: one try per server, then it says so.
TOOL_CONNECT_SECONDS = 5.0


def nats_security(settings: PlatformSettings) -> NatsSecurity | None:
    if settings.nats_creds_file:
        return NatsCredentials(str(settings.nats_creds_file))
    if settings.nats_nkey_seed_file:
        return NatsNKey(settings.nats_nkey_seed_file)
    if settings.nats_token:
        return NatsToken(settings.nats_token.get_secret_value())
    if settings.nats_user and settings.nats_password:
        return NatsUserPassword(settings.nats_user, settings.nats_password.get_secret_value())
    return None


def nats_connect_options(settings: PlatformSettings) -> dict[str, object]:
    """The same credentials as `nats.connect` keyword arguments, for tools that use nats-py directly."""
    if settings.nats_creds_file:
        return {"user_credentials": str(settings.nats_creds_file)}
    if settings.nats_nkey_seed_file:
        return {"nkeys_seed": str(settings.nats_nkey_seed_file)}
    if settings.nats_token:
        return {"token": settings.nats_token.get_secret_value()}
    if settings.nats_user and settings.nats_password:
        return {"user": settings.nats_user, "password": settings.nats_password.get_secret_value()}
    return {}


async def connect_tool(settings: PlatformSettings) -> Client:
    """A connection for a command, given up within TOOL_CONNECT_SECONDS (no minutes of retries)."""
    servers = [url.strip() for url in settings.nats_url.split(",")]

    async def quiet(error: Exception) -> None:
        """nats-py would log a traceback per try; the failure is reported once, below."""

    try:
        async with asyncio.timeout(TOOL_CONNECT_SECONDS):
            return await nats.connect(
                servers,
                connect_timeout=2,
                allow_reconnect=False,
                max_reconnect_attempts=1,
                error_cb=quiet,
                **nats_connect_options(settings),
            )
    except Exception as error:  # whatever nats-py raises, the operator gets one line
        where = ", ".join(without_secret(url) for url in servers)
        reason = str(error) or type(error).__name__
        raise Unreachable("NATS", where, reason) from error
