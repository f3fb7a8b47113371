"""Contacts, the projects and territories messages mention, and the inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .orm import ContactRow, NotificationRow, ProjectRow, TerritoryRow


class NotificationsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert_contact(self, member_id: str, values: dict[str, Any], as_of: datetime) -> None:
        """Newest facts win whatever the arrival order; an erased member stays erased."""
        statement = insert(ContactRow).values(member_id=member_id, as_of=as_of, **values)
        statement = statement.on_conflict_do_update(
            index_elements=[ContactRow.member_id],
            set_={**{key: statement.excluded[key] for key in values}, "as_of": as_of},
            where=(ContactRow.as_of < statement.excluded.as_of) & ContactRow.erased.is_(False),
        )
        await self.session.execute(statement)

    async def contact(self, member_id: str) -> ContactRow | None:
        return await self.session.get(ContactRow, member_id)

    async def erase(self, member_id: str, tombstone_as_of: datetime) -> None:
        """Delete the member's contact data and messages, keeping only a tombstone so nothing more is sent."""
        await self.session.execute(delete(NotificationRow).where(NotificationRow.member_id == member_id))
        await self.session.execute(delete(ContactRow).where(ContactRow.member_id == member_id))
        self.session.add(
            ContactRow(
                member_id=member_id,
                display_name=None,
                email=None,
                locale="en",
                managers=[],
                erased=True,
                as_of=tombstone_as_of,
            )
        )

    async def upsert_territory(self, territory_id: str, name: str) -> None:
        statement = insert(TerritoryRow).values(territory_id=territory_id, name=name)
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=[TerritoryRow.territory_id], set_={"name": name})
        )

    async def territory_name(self, territory_id: str) -> str | None:
        row = await self.session.get(TerritoryRow, territory_id)
        return row.name if row else None

    async def upsert_project(self, values: dict[str, str]) -> None:
        statement = insert(ProjectRow).values(**values)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[ProjectRow.project_id],
                set_={key: statement.excluded[key] for key in values if key != "project_id"},
            )
        )

    async def project(self, project_id: str) -> ProjectRow | None:
        return await self.session.get(ProjectRow, project_id)

    async def add_notification(self, values: dict[str, Any]) -> bool:
        """False when this cause was already delivered to this member on this channel."""
        statement = (
            insert(NotificationRow)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(NotificationRow.notification_id)
        )
        return (await self.session.execute(statement)).first() is not None

    async def inbox(self, member_id: str, limit: int) -> list[NotificationRow]:
        return list(
            await self.session.scalars(
                select(NotificationRow)
                .where(NotificationRow.member_id == member_id, NotificationRow.channel == "inbox")
                .order_by(NotificationRow.created_at.desc())
                .limit(limit)
            )
        )
