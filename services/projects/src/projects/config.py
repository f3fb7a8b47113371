from pydantic_settings import BaseSettings, SettingsConfigDict


class ProjectsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSERELLE_PROJECTS_", extra="ignore")

    max_needs_per_project: int = 30
