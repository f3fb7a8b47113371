"""HTTP routes of the matching service."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from passerelle.reasons import explain
from passerelle.runtime.auth import CurrentIdentity
from pydantic import BaseModel, ConfigDict, Field

from .commands import PassMatch
from .domain import Action, Status
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
    answer_by: datetime | None = Field(
        default=None,
        description="Proposed: when it expires unanswered; accepted: when the project is reminded to confirm",
    )

    @classmethod
    def of(cls, row: MatchRow, language: str, answer_days: float = 0) -> MatchOut:
        update: dict[str, object] = {"explanation": explain(row.reasons, language)}
        if answer_days and row.status in (Status.PROPOSED, Status.ACCEPTED):
            update["answer_by"] = row.stage_since + timedelta(days=answer_days)
        return cls.model_validate(row).model_copy(update=update)


class PassOut(BaseModel):
    """The project side's own record of why it passed."""

    model_config = ConfigDict(from_attributes=True)

    match_id: str
    reason_code: str
    note: str | None
    passed_by: str
    passed_at: datetime


def build_router(handlers: MatchingHandlers, answer_days: float = 0) -> APIRouter:
    """`answer_days`: the delay to answer, shown as each live match's `answer_by`."""
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
        return [MatchOut.of(row, lang, answer_days) for row in rows]

    @router.post("/{match_id}/accept")
    async def accept(match_id: str, identity: CurrentIdentity) -> MatchOut:
        """The member accepts a proposed match (emits MatchAccepted)."""
        return MatchOut.of(await handlers.act(identity, match_id, Action.ACCEPT), "en", answer_days)

    @router.post("/{match_id}/decline")
    async def decline(match_id: str, identity: CurrentIdentity) -> MatchOut:
        """The member declines a proposed or accepted match (emits MatchDeclined); the next best
        offer takes its place."""
        return MatchOut.of(await handlers.act(identity, match_id, Action.DECLINE), "en", answer_days)

    @router.post("/{match_id}/confirm")
    async def confirm(match_id: str, identity: CurrentIdentity) -> MatchOut:
        """The project's owner or a territory manager confirms an accepted match (emits
        MatchConfirmed); once a need has as many as it wants, its other matches are withdrawn."""
        return MatchOut.of(await handlers.act(identity, match_id, Action.CONFIRM), "en", answer_days)

    @router.post("/{match_id}/pass")
    async def pass_match(match_id: str, body: PassMatch, identity: CurrentIdentity) -> MatchOut:
        """The project side declines an accepted match, kindly (emits MatchWithdrawn with reason
        `passed`): the member is told without the reason, which stays here for the project's record."""
        return MatchOut.of(await handlers.pass_match(identity, match_id, body), "en")

    @router.get("/{match_id}/pass")
    async def read_pass(match_id: str, identity: CurrentIdentity) -> PassOut:
        """Why the project side passed: for the project side and operators only."""
        return PassOut.model_validate(await handlers.pass_record(identity, match_id))

    return router
