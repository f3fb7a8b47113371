from pydantic_settings import BaseSettings, SettingsConfigDict


class NotificationsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSERELLE_NOTIFICATIONS_", extra="ignore")

    default_locale: str = "en"
