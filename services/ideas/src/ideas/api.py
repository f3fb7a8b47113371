"""HTTP routes of the ideas service: parse a typed command, call a handler, render."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from fastapi import APIRouter, status
from passerelle.runtime.auth import CurrentIdentity
from pydantic import BaseModel

from .commands import ChangeIdea, CreateIdea
from .domain import Idea
from .handlers import IdeasHandlers


class IdeaOut(BaseModel):
    idea_id: str
    owner_member_id: str
    title: str
    created_at: datetime


def _out(idea: Idea) -> IdeaOut:
    return IdeaOut(**asdict(idea))


def build_router(handlers: IdeasHandlers) -> APIRouter:
    router = APIRouter()

    @router.post("/ideas", status_code=status.HTTP_201_CREATED, tags=["ideas"])
    async def create_idea(body: CreateIdea, identity: CurrentIdentity) -> IdeaOut:
        """Create a idea of the caller's."""
        return _out(await handlers.create(identity, body))

    @router.get("/ideas/{idea_id}", tags=["ideas"])
    async def read_idea(idea_id: str, identity: CurrentIdentity) -> IdeaOut:
        return _out(await handlers.read(idea_id))

    @router.patch("/ideas/{idea_id}", tags=["ideas"])
    async def change_idea(idea_id: str, body: ChangeIdea, identity: CurrentIdentity) -> IdeaOut:
        return _out(await handlers.change(identity, idea_id, body))

    return router
