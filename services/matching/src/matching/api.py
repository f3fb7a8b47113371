"""HTTP routes of the matching service."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from passerelle.runtime.auth import CurrentIdentity
from pydantic import BaseModel, ConfigDict

from .handlers import MatchingHandlers


class MatchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    match_id: str
    project_id: str
    need_id: str
    offer_id: str
    member_id: str
    score: float
    reasons: list[str]
    status: str
    created_at: datetime


def build_router(handlers: MatchingHandlers) -> APIRouter:
    router = APIRouter(prefix="/matches", tags=["matches"])

    @router.get("")
    async def list_matches(
        identity: CurrentIdentity, member_id: str | None = None, project_id: str | None = None
    ) -> list[MatchOut]:
        """A member's or a project's matches, best first."""
        rows = await handlers.matches(identity, member_id, project_id)
        return [MatchOut.model_validate(row) for row in rows]

    return router
