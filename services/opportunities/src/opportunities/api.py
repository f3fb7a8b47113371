"""HTTP routes of the opportunities service: parse a typed command, call a handler, render."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from fastapi import APIRouter, status
from passerelle.runtime.auth import CurrentIdentity
from pydantic import BaseModel

from .commands import ChangeOpportunity, CreateOpportunity
from .domain import Opportunity
from .handlers import OpportunitiesHandlers


class OpportunityOut(BaseModel):
    opportunity_id: str
    owner_member_id: str
    title: str
    created_at: datetime


def _out(opportunity: Opportunity) -> OpportunityOut:
    return OpportunityOut(**asdict(opportunity))


def build_router(handlers: OpportunitiesHandlers) -> APIRouter:
    router = APIRouter()

    @router.post("/opportunities", status_code=status.HTTP_201_CREATED, tags=["opportunities"])
    async def create_opportunity(body: CreateOpportunity, identity: CurrentIdentity) -> OpportunityOut:
        """Create a opportunity of the caller's."""
        return _out(await handlers.create(identity, body))

    @router.get("/opportunities/{opportunity_id}", tags=["opportunities"])
    async def read_opportunity(opportunity_id: str, identity: CurrentIdentity) -> OpportunityOut:
        return _out(await handlers.read(opportunity_id))

    @router.patch("/opportunities/{opportunity_id}", tags=["opportunities"])
    async def change_opportunity(
        opportunity_id: str, body: ChangeOpportunity, identity: CurrentIdentity
    ) -> OpportunityOut:
        return _out(await handlers.change(identity, opportunity_id, body))

    return router
