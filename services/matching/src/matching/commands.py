"""What the API asks of the matching service beyond a bare action: typed commands, validated at the edge."""

from __future__ import annotations

from typing import Annotated, Literal

from passerelle.contracts.types import PARAGRAPHS
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

PassReason = Literal["profile_mismatch", "need_changed", "found_someone", "timing", "other"]


class PassMatch(BaseModel):
    """Why the project side passes; kept for its own record, never told to the member."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason_code: PassReason
    # The checks apply to the text only: `Annotated[str | None, PARAGRAPHS]` ran them on a null note (a 500).
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), PARAGRAPHS] | None = (
        Field(default=None, description="For the project's own record")
    )
