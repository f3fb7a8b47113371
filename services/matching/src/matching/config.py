from pydantic_settings import BaseSettings, SettingsConfigDict


class MatchingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSERELLE_MATCHING_", extra="ignore")

    top_k: int = 10
    min_score: float = 0.3
    # A proposal not answered within this many days expires (one reminder half-way); an accepted
    # match not confirmed within it reminds the project once.
    answer_days: float = 14
    deadline_sweep_seconds: float = 300  # how often deadlines are looked at
