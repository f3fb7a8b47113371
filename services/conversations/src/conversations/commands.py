"""What the API asks of the conversations service: typed commands, validated at the edge (their lengths
are those of the columns), that use cases and the domain take as they are."""

from __future__ import annotations

from typing import Annotated

from passerelle.contracts.types import ONE_LINE, PARAGRAPHS
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

BODY_MAX_LENGTH = 4000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PostMessage(Strict):
    body: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=BODY_MAX_LENGTH),
        PARAGRAPHS,
        Field(
            description="Up to 4,000 characters. Contact details written here are shared by choice: "
            "the platform never reveals a member's e-mail otherwise."
        ),
    ]


class ReportMessage(Strict):
    reason: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
        ONE_LINE,
        Field(description="Why the message should be looked at by the moderators"),
    ]
