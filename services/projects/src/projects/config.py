from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ProjectsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSERELLE_PROJECTS_", extra="ignore")

    programmes_file: Path | None = Field(
        default=None, description="Co-financing programmes added to the shipped catalogue (same JSON shape)"
    )
    collection_days: int = Field(default=30, ge=1, description="A campaign's default collection window")
    reminder_days: list[int] = Field(
        default=[7, 21], description="Days after a campaign's success when unpaid pledgers are reminded"
    )
    financing_interval: float = Field(
        default=30.0, gt=0, description="Seconds between two passes of the due-campaign and lapse loop"
    )
    financing_batch: int = Field(default=50, ge=1, description="Campaigns one pass takes at most")
