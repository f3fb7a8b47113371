"""Settings of the opportunities service, from PASSERELLE_OPPORTUNITIES_* environment variables."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class OpportunitiesSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSERELLE_OPPORTUNITIES_", extra="ignore")

    max_per_member: int = Field(default=100, description="Opportunities a member may promote, closed or not")
    programmes_file: Path | None = Field(
        default=None, description="Support programmes an operator adds to the shipped ones (same JSON shape)"
    )
    expiry_interval: float = Field(
        default=3600.0, gt=0, description="Seconds between two looks for reminders and expiries"
    )
