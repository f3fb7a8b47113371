"""The notifications service's own settings, read from `PASSERELLE_*` environment variables."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotificationsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSERELLE_", extra="ignore")

    profile_wait: float = Field(
        default=7 * 24 * 3600.0,
        gt=0,
        description="Seconds something to tell may wait for a member's profile (a pledger not known yet) "
        "before it ends as NotificationFailed",
    )
