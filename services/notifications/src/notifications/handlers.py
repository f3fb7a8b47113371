"""Use cases of the notifications service."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from passerelle.contracts import (
    CloudEvent,
    MatchProposed,
    MemberProfile,
    NotificationDelivered,
    ProjectPublished,
    TerritoryRegistered,
)
from passerelle.persistence.database import Database, UnitOfWork
from passerelle.reasons import explain
from passerelle.runtime.auth import Identity
from passerelle.runtime.problems import forbidden

from .domain import language_of, render
from .orm import NotificationRow
from .repository import NotificationsRepository

# Erasure is final: a late profile event must not bring the contact back.
_FOREVER = datetime(9999, 1, 1, tzinfo=UTC)


class NotYetKnown(Exception):
    """An event refers to something this service has not heard of yet; retried until it has."""


class NotificationsHandlers:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def remember_contact(self, event: CloudEvent[MemberProfile], uow: UnitOfWork) -> None:
        data = event.data
        values = {
            "display_name": data.display_name,
            "email": str(data.email),
            "locale": data.locale,
            "managers": list(data.managers),
        }
        await NotificationsRepository(uow.session).upsert_contact(data.member_id, values, event.time)

    async def erase(self, member_id: str, uow: UnitOfWork) -> None:
        await NotificationsRepository(uow.session).erase(member_id, _FOREVER)

    async def remember_territory(self, data: TerritoryRegistered, uow: UnitOfWork) -> None:
        await NotificationsRepository(uow.session).upsert_territory(data.territory_id, data.name)

    async def remember_project(self, data: ProjectPublished, uow: UnitOfWork) -> None:
        await NotificationsRepository(uow.session).upsert_project(
            {
                "project_id": data.project_id,
                "title": data.title,
                "territory_id": data.territory_id,
                "owner_member_id": data.owner_member_id,
            }
        )

    async def tell_member_of_match(self, event: CloudEvent[MatchProposed], uow: UnitOfWork) -> None:
        repository = NotificationsRepository(uow.session)
        data = event.data
        contact = await repository.contact(data.member_id)
        if contact is not None and contact.erased:
            return
        project = await repository.project(data.project_id)
        if contact is None or project is None:
            raise NotYetKnown(f"waiting for member {data.member_id} and project {data.project_id}")
        territory = await repository.territory_name(project.territory_id) or ""
        language = language_of(contact.locale)
        message = render(
            "match_proposed",
            contact.locale,
            {
                "name": contact.display_name or "",
                "project": project.title,
                "territory": territory,
                "reasons": explain(data.reasons, language),
            },
        )
        notification_id = str(uuid.uuid4())
        added = await repository.add_notification(
            {
                "notification_id": notification_id,
                "member_id": data.member_id,
                "channel": "inbox",
                "kind": "match_proposed",
                "language": message.language,
                "title": message.title,
                "body": message.body,
                "cause_event_id": event.id,
            }
        )
        if added:
            uow.record(
                NotificationDelivered(
                    notification_id=notification_id,
                    member_id=data.member_id,
                    channel="inbox",
                    kind="match_proposed",
                    cause_event_id=event.id,
                )
            )

    async def inbox(self, identity: Identity, member_id: str, limit: int) -> list[NotificationRow]:
        async with self.database.unit_of_work() as uow:
            repository = NotificationsRepository(uow.session)
            if not identity.is_operator and identity.sub != member_id:
                contact = await repository.contact(member_id)
                if contact is None or identity.sub not in contact.managers:
                    raise forbidden("you may read only your own notifications")
            return await repository.inbox(member_id, limit)
