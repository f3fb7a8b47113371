"""Settings of the gatherings service, from PASSERELLE_GATHERINGS_* environment variables (and the
reminder's delay, PASSERELLE_GATHERING_REMINDER_HOURS, named by the issue)."""

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class GatheringsSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PASSERELLE_GATHERINGS_", extra="ignore", populate_by_name=True
    )

    reminder_hours: float = Field(
        default=24,
        gt=0,
        validation_alias=AliasChoices("PASSERELLE_GATHERING_REMINDER_HOURS", "reminder_hours"),
        description="How long before a gathering starts its confirmed registrants are reminded",
    )
    reminder_interval: float = Field(default=60, gt=0, description="Seconds between looks for reminders due")
    public_url: str = Field(
        default="http://localhost:8080", description="Where the portal is: calendar entries link to it"
    )
