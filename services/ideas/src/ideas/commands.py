"""What the API asks of the ideas service: typed commands, validated at the edge (their lengths
are those of the columns), that use cases and the domain take as they are."""

from __future__ import annotations

from typing import Annotated

from passerelle.contracts.types import ONE_LINE
from passerelle.validation import omittable
from pydantic import BaseModel, ConfigDict, StringConstraints

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CreateIdea(Strict):
    title: Title


class ChangeIdea(Strict):
    """Only the fields sent change."""

    title: Title = omittable()
