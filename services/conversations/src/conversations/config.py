"""Settings of the conversations service, from PASSERELLE_CONVERSATIONS_* environment variables."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class ConversationsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSERELLE_CONVERSATIONS_", extra="ignore")

    max_per_member: int = 100
