"""HTTP routes of the notifications service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from passerelle.contracts.types import ONE_LINE
from passerelle.errors import InvalidField
from passerelle.runtime.auth import CurrentIdentity
from passerelle.runtime.pagination import Limit, Offset, describe_page
from pydantic import BaseModel, ConfigDict, Field

from .commands import DeliveryFilters, SetPreferences
from .handlers import NotificationsHandlers
from .preferences import Preferences
from .texts import Kind

Channel = Literal["inbox", "email", "webhook"]
Digest = Literal["immediate", "daily", "weekly"]


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    notification_id: str
    member_id: str
    kind: str
    language: str
    title: str
    body: str
    data: dict[str, Any]
    cause_event_id: str
    created_at: datetime
    read_at: datetime | None


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: dict[Kind, list[Channel]] = Field(
        default_factory=dict,
        description="Channels per kind of message; kinds left out get inbox, email and webhook. "
        "The inbox is always kept.",
    )
    digest: Digest = Field(default="immediate", description="E-mails and webhooks at once, or gathered")
    digest_hour: int = Field(default=8, ge=0, le=23, description="Local hour of the daily or weekly digest")
    webhook_url: Annotated[str, Field(max_length=2000), ONE_LINE] | None = None
    territory_news: list[Annotated[str, Field(min_length=1, max_length=100), ONE_LINE]] = Field(
        default_factory=list,
        max_length=50,
        description="Territories whose new projects you want to hear of (you must be attached to them)",
    )
    opportunity_news: list[Annotated[str, Field(min_length=1, max_length=100), ONE_LINE]] = Field(
        default_factory=list,
        max_length=50,
        description="Territories whose new opportunities (to invest, lend, partner) you want to hear of",
    )
    rotate_webhook_secret: bool = Field(default=False, description="Issue a new signing secret")
    # What GET answers besides, so that a client may PUT back what it read: set by the platform.
    member_id: str | None = Field(default=None, description="Read only; must be the path's if given")
    time_zone: str | None = Field(default=None, description="Read only: the profile's time zone")
    webhook_secret: str | None = Field(default=None, description="Read only: see rotate_webhook_secret")


class PreferencesOut(BaseModel):
    member_id: str
    channels: dict[str, list[str]]
    digest: str
    digest_hour: int
    time_zone: str = Field(description="The member's time zone, from their profile: digests go at its hours")
    webhook_url: str | None
    webhook_secret: str | None = Field(description="Verify our X-Passerelle-Signature with it")
    territory_news: list[str]
    opportunity_news: list[str]


class DeliveryOut(BaseModel):
    notification_id: str
    member_id: str
    channel: str
    kind: str
    status: str
    cause_event_id: str
    created_at: datetime
    delivered_at: datetime | None
    error: str | None
    message_id: str | None
    attempts: int
    next_try_at: datetime | None


def build_router(handlers: NotificationsHandlers) -> APIRouter:
    router = APIRouter(tags=["notifications"])

    @router.get("/notifications")
    async def inbox(
        member_id: str,
        identity: CurrentIdentity,
        request: Request,
        response: Response,
        unread: bool = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[NotificationOut]:
        """The member's in-app inbox, newest first (`unread=true`: only what was not read)."""
        rows, total = await handlers.inbox(identity, member_id, unread=unread, limit=limit, offset=offset)
        describe_page(request, response, total=total, limit=limit, offset=offset, shown=len(rows))
        return [NotificationOut.model_validate(row) for row in rows]

    @router.post("/notifications/{notification_id}/read")
    async def mark_read(notification_id: str, identity: CurrentIdentity) -> NotificationOut:
        """Mark one inbox notification as read (again: no change)."""
        return NotificationOut.model_validate(await handlers.mark_read(identity, notification_id))

    @router.post("/notifications/read")
    async def mark_all_read(member_id: str, identity: CurrentIdentity) -> dict[str, int]:
        """Mark the member's whole inbox as read."""
        return {"marked": await handlers.mark_all_read(identity, member_id)}

    @router.get("/notification-preferences/{member_id}")
    async def preferences(member_id: str, identity: CurrentIdentity) -> PreferencesOut:
        """Channels per kind of message, digest, webhook and territory news (defaults until set)."""
        saved, time_zone = await handlers.preferences(identity, member_id)
        return _out(member_id, saved, time_zone)

    @router.put("/notification-preferences/{member_id}")
    async def set_preferences(
        member_id: str, body: PreferencesIn, identity: CurrentIdentity
    ) -> PreferencesOut:
        """Replace the member's preferences; a webhook gets a signing secret, kept until rotated."""
        if body.member_id not in (None, member_id):
            raise InvalidField("member_id", "these are the preferences of the member in the path")
        wanted = Preferences(
            channels={kind: tuple(channels) for kind, channels in body.channels.items()},
            digest=body.digest,
            digest_hour=body.digest_hour,
            webhook_url=body.webhook_url,
            territory_news=tuple(dict.fromkeys(body.territory_news)),
            opportunity_news=tuple(dict.fromkeys(body.opportunity_news)),
        )
        change = SetPreferences(member_id, wanted, rotate_secret=body.rotate_webhook_secret)
        saved, time_zone = await handlers.set_preferences(identity, change)
        return _out(member_id, saved, time_zone)

    @router.get("/notification-deliveries")
    async def deliveries(
        identity: CurrentIdentity,
        request: Request,
        response: Response,
        member_id: str | None = None,
        channel: Channel | None = None,
        status: Literal["delivered", "pending", "failed"] | None = None,
        kind: Kind | None = None,
        cause_event_id: str | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[DeliveryOut]:
        """The delivery log, newest first (operators): every notification on every channel, its
        status, tries and last error."""
        filters = DeliveryFilters(member_id, channel, status, kind, cause_event_id)
        rows, total = await handlers.deliveries(identity, filters, limit, offset)
        describe_page(request, response, total=total, limit=limit, offset=offset, shown=len(rows))
        return [
            DeliveryOut(
                notification_id=notification.notification_id,
                member_id=notification.member_id,
                channel=notification.channel,
                kind=notification.kind,
                status=notification.status,
                cause_event_id=notification.cause_event_id,
                created_at=notification.created_at,
                delivered_at=notification.delivered_at,
                error=notification.error or (message.last_error if message else None),
                message_id=notification.message_id,
                attempts=message.attempts if message else 1,
                next_try_at=message.due_at if message and message.status == "pending" else None,
            )
            for notification, message in rows
        ]

    return router


def _out(member_id: str, saved: Preferences, time_zone: str) -> PreferencesOut:
    return PreferencesOut(
        member_id=member_id,
        channels=saved.every_kind(),
        digest=saved.digest,
        digest_hour=saved.digest_hour,
        time_zone=time_zone,
        webhook_url=saved.webhook_url,
        webhook_secret=saved.webhook_secret,
        territory_news=list(saved.territory_news),
        opportunity_news=list(saved.opportunity_news),
    )
