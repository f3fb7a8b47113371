"""HTTP routes of the conversations service: parse a typed command, call a handler, render."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from fastapi import APIRouter, status
from passerelle.runtime.auth import CurrentIdentity
from pydantic import BaseModel

from .commands import ChangeConversation, CreateConversation
from .domain import Conversation
from .handlers import ConversationsHandlers


class ConversationOut(BaseModel):
    conversation_id: str
    owner_member_id: str
    title: str
    created_at: datetime


def _out(conversation: Conversation) -> ConversationOut:
    return ConversationOut(**asdict(conversation))


def build_router(handlers: ConversationsHandlers) -> APIRouter:
    router = APIRouter()

    @router.post("/conversations", status_code=status.HTTP_201_CREATED, tags=["conversations"])
    async def create_conversation(body: CreateConversation, identity: CurrentIdentity) -> ConversationOut:
        """Create a conversation of the caller's."""
        return _out(await handlers.create(identity, body))

    @router.get("/conversations/{conversation_id}", tags=["conversations"])
    async def read_conversation(conversation_id: str, identity: CurrentIdentity) -> ConversationOut:
        return _out(await handlers.read(conversation_id))

    @router.patch("/conversations/{conversation_id}", tags=["conversations"])
    async def change_conversation(
        conversation_id: str, body: ChangeConversation, identity: CurrentIdentity
    ) -> ConversationOut:
        return _out(await handlers.change(identity, conversation_id, body))

    return router
