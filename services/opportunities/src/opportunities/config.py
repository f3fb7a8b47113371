"""Settings of the opportunities service, from PASSERELLE_OPPORTUNITIES_* environment variables."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class OpportunitiesSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSERELLE_OPPORTUNITIES_", extra="ignore")

    max_per_member: int = 100
