"""How a service authenticates to NATS, from the environment."""

from faststream.nats.security import NatsCredentials, NatsNKey, NatsSecurity, NatsToken, NatsUserPassword

from passerelle.settings import PlatformSettings


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
