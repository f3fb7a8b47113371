"""Settings of the gatherings service, from PASSERELLE_GATHERINGS_* environment variables."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class GatheringsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSERELLE_GATHERINGS_", extra="ignore")

    max_per_member: int = 100
