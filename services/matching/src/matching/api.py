"""HTTP routes of the matching service."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from passerelle.runtime.auth import CurrentIdentity
from pydantic import BaseModel, ConfigDict, Field

from .handlers import MatchingHandlers


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
    created_at: datetime
    updated_at: datetime


def build_router(handlers: MatchingHandlers) -> APIRouter:
    router = APIRouter(prefix="/matches", tags=["matches"])

    @router.get("")
    async def list_matches(
        identity: CurrentIdentity, member_id: str | None = None, project_id: str | None = None
    ) -> list[MatchOut]:
        """A member's or a project's matches, best first."""
        rows = await handlers.matches(identity, member_id, project_id)
        return [MatchOut.model_validate(row) for row in rows]

    @router.post("/{match_id}/accept")
    async def accept(match_id: str, identity: CurrentIdentity) -> MatchOut:
        """The member accepts a proposed match (emits MatchAccepted)."""
        return MatchOut.model_validate(await handlers.act(identity, match_id, "accept"))

    @router.post("/{match_id}/decline")
    async def decline(match_id: str, identity: CurrentIdentity) -> MatchOut:
        """The member declines a proposed or accepted match (emits MatchDeclined); the next best
        offer takes its place."""
        return MatchOut.model_validate(await handlers.act(identity, match_id, "decline"))

    @router.post("/{match_id}/confirm")
    async def confirm(match_id: str, identity: CurrentIdentity) -> MatchOut:
        """The project's owner or a territory manager confirms an accepted match (emits
        MatchConfirmed); once a need has as many as it wants, its other matches are withdrawn."""
        return MatchOut.model_validate(await handlers.act(identity, match_id, "confirm"))

    return router
