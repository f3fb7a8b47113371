from pydantic_settings import BaseSettings, SettingsConfigDict


class MatchingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSERELLE_MATCHING_", extra="ignore")

    top_k: int = 10
    min_score: float = 0.3
