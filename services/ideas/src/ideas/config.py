"""Settings of the ideas service, from PASSERELLE_IDEAS_* environment variables."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class IdeasSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSERELLE_IDEAS_", extra="ignore")

    max_per_member: int = 100
