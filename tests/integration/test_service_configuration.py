"""A service started without a setting it needs stops at once with one line and the configuration
exit code (5), before reaching for NATS or its database."""

from __future__ import annotations

from .test_cli import passerelle

NOWHERE = {
    "PASSERELLE_NATS_URL": "nats://127.0.0.1:1",
    "PASSERELLE_DATABASE_URL": "postgresql+asyncpg://u@127.0.0.1:1/x",
}


async def test_the_portal_without_its_session_secret_exits_with_code_5_and_one_line() -> None:
    code, _, err = await passerelle("serve", "portal", **NOWHERE)

    assert code == 5
    assert err.strip().splitlines() == [
        "passerelle serve: bad configuration: portal: set PASSERELLE_PORTAL_SESSION_SECRET "
        "(or PASSERELLE_JWT_SECRET) for the portal's sessions"
    ]


async def test_a_service_without_any_way_to_check_tokens_exits_with_code_5_and_one_line() -> None:
    code, _, err = await passerelle("serve", "members", **NOWHERE)

    assert code == 5
    assert err.strip().splitlines() == [
        "passerelle serve: bad configuration: members: "
        "set PASSERELLE_JWT_SECRET (development) or PASSERELLE_JWKS_URL (production)"
    ]
