"""Loading and saving territories, projects and the member read model."""

from dataclasses import asdict, fields
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .domain import MemberFacts, Project, Territory
from .orm import MemberFactsRow, ProjectRow, TerritoryRow

FOREVER = datetime(9999, 1, 1, tzinfo=UTC)
_PROJECT_FIELDS = [f.name for f in fields(Project)]
_TERRITORY_FIELDS = [f.name for f in fields(Territory)]


class ProjectsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def territory(self, territory_id: str) -> Territory | None:
        row = await self.session.get(TerritoryRow, territory_id)
        return Territory(**{name: getattr(row, name) for name in _TERRITORY_FIELDS}) if row else None

    async def territories(self) -> list[Territory]:
        rows = await self.session.scalars(select(TerritoryRow).order_by(TerritoryRow.name))
        return [Territory(**{name: getattr(row, name) for name in _TERRITORY_FIELDS}) for row in rows]

    async def add_territory(self, territory: Territory) -> None:
        self.session.add(TerritoryRow(**asdict(territory)))

    async def project(self, project_id: str, *, for_update: bool = False) -> Project | None:
        row = await self.session.get(ProjectRow, project_id, with_for_update=for_update)
        return Project(**{name: getattr(row, name) for name in _PROJECT_FIELDS}) if row else None

    async def save_project(self, project: Project) -> None:
        await self.session.merge(ProjectRow(**asdict(project)))

    async def projects(self, territory_id: str | None, status: str | None) -> list[Project]:
        query = select(ProjectRow).order_by(ProjectRow.created_at.desc())
        if territory_id:
            query = query.where(ProjectRow.territory_id == territory_id)
        if status:
            query = query.where(ProjectRow.status == status)
        rows = await self.session.scalars(query)
        return [Project(**{name: getattr(row, name) for name in _PROJECT_FIELDS}) for row in rows]

    async def member(self, member_id: str) -> MemberFacts | None:
        row = await self.session.get(MemberFactsRow, member_id)
        return MemberFacts(row.member_id, row.kind, row.managers) if row else None

    async def remember_member(self, facts: MemberFacts, as_of: datetime) -> None:
        """Keep the newest facts whatever order the events arrive in."""
        statement = insert(MemberFactsRow).values(**asdict(facts), as_of=as_of)
        statement = statement.on_conflict_do_update(
            index_elements=[MemberFactsRow.member_id],
            set_={"kind": statement.excluded.kind, "managers": statement.excluded.managers, "as_of": as_of},
            where=MemberFactsRow.as_of < statement.excluded.as_of,
        )
        await self.session.execute(statement)

    async def forget_member(self, member_id: str) -> None:
        """A tombstone that no late registration or update can overwrite."""
        await self.remember_member(MemberFacts(member_id, "erased", []), as_of=FOREVER)
