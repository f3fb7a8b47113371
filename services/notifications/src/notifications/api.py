"""HTTP routes of the notifications service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from passerelle.runtime.auth import CurrentIdentity
from pydantic import BaseModel, ConfigDict

from .handlers import NotificationsHandlers


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    notification_id: str
    member_id: str
    kind: str
    language: str
    title: str
    body: str
    cause_event_id: str
    created_at: datetime
    read_at: datetime | None


def build_router(handlers: NotificationsHandlers) -> APIRouter:
    router = APIRouter(prefix="/notifications", tags=["notifications"])

    @router.get("")
    async def inbox(
        member_id: str, identity: CurrentIdentity, limit: Annotated[int, Query(ge=1, le=200)] = 50
    ) -> list[NotificationOut]:
        """The member's in-app inbox, newest first."""
        rows = await handlers.inbox(identity, member_id, limit)
        return [NotificationOut.model_validate(row) for row in rows]

    return router
