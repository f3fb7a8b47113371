"""Settings of the portal, from the environment: PASSERELLE_PORTAL_* and the sign-in variables the
operator's deployment names (PASSERELLE_DEV_LOGIN, PASSERELLE_OIDC_*)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("members", "projects", "matching", "notifications")


class PortalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSERELLE_PORTAL_", extra="ignore", populate_by_name=True)

    api_url: str | None = Field(
        default=None,
        description="Base URL of the APIs; unset, the portal calls the APIs served in its own process (up)",
    )
    api_urls: dict[str, str] = Field(
        default_factory=dict, description='Per service, e.g. {"members": "http://passerelle-members:8000"}'
    )
    session_secret: SecretStr | None = Field(
        default=None, description="Signs the session cookie; default: derived from PASSERELLE_JWT_SECRET"
    )
    reader_token: SecretStr | None = Field(
        default=None, description="A token of the identity public pages read with, for visitors"
    )
    session_hours: int = Field(default=8, ge=1, le=24 * 30)
    dev_login: bool = Field(default=False, validation_alias=AliasChoices("PASSERELLE_DEV_LOGIN"))
    oidc_issuer: str | None = Field(default=None, validation_alias=AliasChoices("PASSERELLE_OIDC_ISSUER"))
    oidc_client_id: str | None = Field(
        default=None, validation_alias=AliasChoices("PASSERELLE_OIDC_CLIENT_ID")
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("PASSERELLE_OIDC_CLIENT_SECRET")
    )
    oidc_scope: str = Field(
        default="openid profile email", validation_alias=AliasChoices("PASSERELLE_OIDC_SCOPE")
    )

    def check(self) -> None:
        """The development sign-in mints tokens for anyone: never beside a real identity provider."""
        if self.dev_login and self.oidc_issuer:
            raise ValueError("PASSERELLE_DEV_LOGIN=true and PASSERELLE_OIDC_ISSUER cannot be set together")
        if self.oidc_issuer and not self.oidc_client_id:
            raise ValueError("PASSERELLE_OIDC_ISSUER needs PASSERELLE_OIDC_CLIENT_ID")
