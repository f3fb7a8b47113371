"""HTTP routes of the gatherings service: parse a typed command, call a handler, render."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from fastapi import APIRouter, status
from passerelle.runtime.auth import CurrentIdentity
from pydantic import BaseModel

from .commands import ChangeGathering, CreateGathering
from .domain import Gathering
from .handlers import GatheringsHandlers


class GatheringOut(BaseModel):
    gathering_id: str
    owner_member_id: str
    title: str
    created_at: datetime


def _out(gathering: Gathering) -> GatheringOut:
    return GatheringOut(**asdict(gathering))


def build_router(handlers: GatheringsHandlers) -> APIRouter:
    router = APIRouter()

    @router.post("/gatherings", status_code=status.HTTP_201_CREATED, tags=["gatherings"])
    async def create_gathering(body: CreateGathering, identity: CurrentIdentity) -> GatheringOut:
        """Create a gathering of the caller's."""
        return _out(await handlers.create(identity, body))

    @router.get("/gatherings/{gathering_id}", tags=["gatherings"])
    async def read_gathering(gathering_id: str, identity: CurrentIdentity) -> GatheringOut:
        return _out(await handlers.read(gathering_id))

    @router.patch("/gatherings/{gathering_id}", tags=["gatherings"])
    async def change_gathering(
        gathering_id: str, body: ChangeGathering, identity: CurrentIdentity
    ) -> GatheringOut:
        return _out(await handlers.change(identity, gathering_id, body))

    return router
