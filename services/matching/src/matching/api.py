"""HTTP routes of the matching service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from passerelle.reasons import explain
from passerelle.runtime.auth import CurrentIdentity
from pydantic import BaseModel, ConfigDict, Field

from .domain import Action
from .handlers import MatchingHandlers
from .orm import MatchRow


class MatchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    match_id: str
    project_id: str
    need_id: str
    offer_id: str
    member_id: str
    score: float = Field(ge=0, le=1)
    reasons: list[str] = Field(description="Machine codes: skill_exact, bond_origin, language:fr ...")
    status: Literal["proposed", "accepted", "declined", "confirmed", "withdrawn"]
    reason: str | None = Field(description="Why it was declined or withdrawn")
    explanation: str = Field(default="", description="The reasons in words, in the language asked (lang)")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: MatchRow, language: str) -> MatchOut:
        return cls.model_validate(row).model_copy(update={"explanation": explain(row.reasons, language)})


def build_router(handlers: MatchingHandlers) -> APIRouter:
    router = APIRouter(prefix="/matches", tags=["matches"])

    @router.get("")
    async def list_matches(
        identity: CurrentIdentity,
        member_id: str | None = None,
        project_id: str | None = None,
        lang: Annotated[
            str, Query(pattern=r"^[a-z]{2}(-[A-Za-z0-9]{2,8})*$", description="For explanation")
        ] = "en",
    ) -> list[MatchOut]:
        """A member's or a project's matches, best first, with their reasons in words."""
        rows = await handlers.matches(identity, member_id, project_id)
        return [MatchOut.of(row, lang) for row in rows]

    @router.post("/{match_id}/accept")
    async def accept(match_id: str, identity: CurrentIdentity) -> MatchOut:
        """The member accepts a proposed match (emits MatchAccepted)."""
        return MatchOut.of(await handlers.act(identity, match_id, Action.ACCEPT), "en")

    @router.post("/{match_id}/decline")
    async def decline(match_id: str, identity: CurrentIdentity) -> MatchOut:
        """The member declines a proposed or accepted match (emits MatchDeclined); the next best
        offer takes its place."""
        return MatchOut.of(await handlers.act(identity, match_id, Action.DECLINE), "en")

    @router.post("/{match_id}/confirm")
    async def confirm(match_id: str, identity: CurrentIdentity) -> MatchOut:
        """The project's owner or a territory manager confirms an accepted match (emits
        MatchConfirmed); once a need has as many as it wants, its other matches are withdrawn."""
        return MatchOut.of(await handlers.act(identity, match_id, Action.CONFIRM), "en")

    return router
