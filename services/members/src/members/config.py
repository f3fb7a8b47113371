from pydantic_settings import BaseSettings, SettingsConfigDict


class MembersSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSERELLE_MEMBERS_", extra="ignore")

    max_offers_per_member: int = 50
