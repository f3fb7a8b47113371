"""Settings of the ideas service, from PASSERELLE_IDEAS_* environment variables."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IdeasSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSERELLE_IDEAS_", extra="ignore")

    reports_to_hide: int = Field(default=3, ge=1, description="Open reports that hide an idea")
    phase_check_interval: float = Field(
        default=300.0, gt=0, description="Seconds between looks for plans whose next phase began"
    )
