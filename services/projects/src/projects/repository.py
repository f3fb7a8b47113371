"""Loading and saving territories, their managers, projects, pledges and the member read model."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, fields
from datetime import datetime

from passerelle.contracts import ERASED_OWNER
from passerelle.persistence.database import FOREVER
from sqlalchemy import ColumnElement, Select, String, and_, delete, func, literal, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .domain import ERASED_KIND, MemberFacts, Project, Territory
from .financing.erasure import forget_financing
from .orm import MemberFactsRow, PledgeRow, ProjectRow, TerritoryRoleRow, TerritoryRow

_PROJECT_FIELDS = [f.name for f in fields(Project)]
_TERRITORY_FIELDS = [f.name for f in fields(Territory)]


@dataclass(frozen=True)
class ProjectSearch:
    territory_id: str | None = None  # this territory and every one under it
    statuses: Collection[str] = ("published", "closed")
    sector: str | None = None
    skills: Collection[str] | None = None  # a need for any of these


@dataclass(frozen=True)
class DraftReaders:
    """Whose drafts a caller may see: their own, those of members they manage, and those in the
    territories they manage. None: every draft (an operator)."""

    owners: Collection[str]
    territories: Collection[str]


def _territory(row: TerritoryRow) -> Territory:
    return Territory(**{name: getattr(row, name) for name in _TERRITORY_FIELDS})


def _project(row: ProjectRow) -> Project:
    return Project(**{name: getattr(row, name) for name in _PROJECT_FIELDS})


def descendants_query(territory_id: str) -> Select[tuple[str]]:
    """The territory and every territory under it."""
    tree = (
        select(TerritoryRow.territory_id).where(TerritoryRow.territory_id == territory_id).cte(recursive=True)
    )
    tree = tree.union_all(
        select(TerritoryRow.territory_id).where(TerritoryRow.parent_id == tree.c.territory_id)
    )
    return select(tree.c.territory_id)


class ProjectsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Territories and their managers

    async def territory(self, territory_id: str) -> Territory | None:
        row = await self.session.get(TerritoryRow, territory_id)
        return _territory(row) if row else None

    async def territories(
        self, within: str | None = None, country: str | None = None, level: str | None = None
    ) -> list[Territory]:
        query = select(TerritoryRow).order_by(TerritoryRow.country, TerritoryRow.name)
        if within:
            query = query.where(TerritoryRow.territory_id.in_(descendants_query(within)))
        if country:
            query = query.where(TerritoryRow.country == country)
        if level:
            query = query.where(TerritoryRow.level == level)
        return [_territory(row) for row in await self.session.scalars(query)]

    async def add_territory(self, territory: Territory) -> None:
        self.session.add(TerritoryRow(**asdict(territory)))

    async def lineage(self, territory_id: str) -> list[str]:
        """The territory and every territory above it."""
        chain = (
            select(TerritoryRow.territory_id, TerritoryRow.parent_id)
            .where(TerritoryRow.territory_id == territory_id)
            .cte(recursive=True)
        )
        chain = chain.union_all(
            select(TerritoryRow.territory_id, TerritoryRow.parent_id).where(
                TerritoryRow.territory_id == chain.c.parent_id
            )
        )
        return list(await self.session.scalars(select(chain.c.territory_id)))

    async def roles(self, territory_id: str) -> list[TerritoryRoleRow]:
        query = select(TerritoryRoleRow).where(TerritoryRoleRow.territory_id == territory_id)
        return list(await self.session.scalars(query.order_by(TerritoryRoleRow.role, TerritoryRoleRow.sub)))

    async def grant(self, territory_id: str, sub: str, role: str, granted_by: str) -> bool:
        """False when the role was already held."""
        statement = (
            insert(TerritoryRoleRow)
            .values(territory_id=territory_id, sub=sub, role=role, granted_by=granted_by)
            .on_conflict_do_nothing()
            .returning(TerritoryRoleRow.sub)
        )
        return (await self.session.execute(statement)).first() is not None

    async def revoke(self, territory_id: str, sub: str, role: str) -> bool:
        statement = delete(TerritoryRoleRow).where(
            TerritoryRoleRow.territory_id == territory_id,
            TerritoryRoleRow.sub == sub,
            TerritoryRoleRow.role == role,
        )
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def manages_any(self, sub: str, territory_ids: Collection[str]) -> bool:
        query = select(TerritoryRoleRow.sub).where(
            TerritoryRoleRow.sub == sub, TerritoryRoleRow.territory_id.in_(list(territory_ids))
        )
        return await self.session.scalar(query.limit(1)) is not None

    async def territories_managed_by(self, sub: str) -> list[str]:
        """Every territory a manager acts on: those granted and everything under them."""
        granted = list(
            await self.session.scalars(
                select(TerritoryRoleRow.territory_id).where(TerritoryRoleRow.sub == sub)
            )
        )
        managed: set[str] = set()
        for territory_id in granted:
            managed.update(await self.session.scalars(descendants_query(territory_id)))
        return sorted(managed)

    # Projects and pledges

    async def project(self, project_id: str, *, for_update: bool = False) -> Project | None:
        row = await self.session.get(ProjectRow, project_id, with_for_update=for_update)
        return _project(row) if row else None

    async def save_project(self, project: Project) -> None:
        await self.session.merge(ProjectRow(**asdict(project)))
        await self.session.flush()  # before pledges that refer to it

    async def search(
        self, wanted: ProjectSearch, drafts: DraftReaders | None, limit: int, offset: int
    ) -> tuple[list[Project], int]:
        conditions: list[ColumnElement[bool]] = [ProjectRow.status.in_(list(wanted.statuses))]
        if drafts is not None:
            conditions.append(
                or_(
                    ProjectRow.status != "draft",
                    ProjectRow.owner_member_id.in_(list(drafts.owners)),
                    ProjectRow.territory_id.in_(list(drafts.territories)),
                )
            )
        if wanted.territory_id:
            conditions.append(ProjectRow.territory_id.in_(descendants_query(wanted.territory_id)))
        if wanted.sector:
            conditions.append(ProjectRow.sector == wanted.sector)
        if wanted.skills is not None:
            conditions.append(
                or_(*(ProjectRow.needs.contains([{"skill": skill}]) for skill in wanted.skills))
            )
        where = and_(true(), *conditions)
        total = await self.session.scalar(select(func.count()).select_from(ProjectRow).where(where))
        rows = await self.session.scalars(
            select(ProjectRow)
            .where(where)
            .order_by(ProjectRow.created_at.desc(), ProjectRow.project_id)
            .limit(limit)
            .offset(offset)
        )
        return [_project(row) for row in rows], total or 0

    async def add_pledge(self, pledge: PledgeRow) -> None:
        self.session.add(pledge)

    async def pledges(self, project_id: str) -> list[PledgeRow]:
        query = select(PledgeRow).where(PledgeRow.project_id == project_id)
        return list(await self.session.scalars(query.order_by(PledgeRow.pledged_at, PledgeRow.pledge_id)))

    # What projects knows of members

    async def member(self, member_id: str) -> MemberFacts | None:
        row = await self.session.get(MemberFactsRow, member_id)
        return MemberFacts(row.member_id, row.kind, row.managers, row.attachments) if row else None

    async def was_erased(self, member_id: str) -> bool:
        member = await self.member(member_id)
        return member is not None and member.erased

    async def members_managed_by(self, sub: str) -> list[str]:
        query = select(MemberFactsRow.member_id).where(MemberFactsRow.managers.contains([sub]))
        return list(await self.session.scalars(query))

    async def remember_member(self, facts: MemberFacts, as_of: datetime) -> None:
        """Keep the newest facts whatever order the events arrive in."""
        statement = insert(MemberFactsRow).values(**asdict(facts), as_of=as_of)
        statement = statement.on_conflict_do_update(
            index_elements=[MemberFactsRow.member_id],
            set_={
                "kind": statement.excluded.kind,
                "managers": statement.excluded.managers,
                "attachments": statement.excluded.attachments,
                "as_of": as_of,
            },
            where=MemberFactsRow.as_of < statement.excluded.as_of,
        )
        await self.session.execute(statement)

    async def forget_member(self, member_id: str) -> tuple[list[tuple[str, str]], list[str]]:
        """Remove every link to the member; the amounts they pledged stay in the ledger, anonymous.

        Returns the (territory, role) the identity held and no longer holds, and the projects it
        owned (now owned by the erased marker, and locked until the commit)."""
        await self.remember_member(MemberFacts(member_id, ERASED_KIND, []), as_of=FOREVER)
        await forget_financing(self.session, member_id)
        owned = await self.session.scalars(
            update(ProjectRow)
            .where(ProjectRow.owner_member_id == member_id)
            .values(owner_member_id=ERASED_OWNER)
            .returning(ProjectRow.project_id)
            .execution_options(synchronize_session=False)
        )
        projects = sorted(owned)
        removed = await self.session.execute(
            delete(TerritoryRoleRow)
            .where(TerritoryRoleRow.sub == member_id)
            .returning(TerritoryRoleRow.territory_id, TerritoryRoleRow.role)
        )
        roles = [(territory_id, role) for territory_id, role in removed]
        await self.session.execute(
            update(MemberFactsRow)
            .where(MemberFactsRow.managers.contains([member_id]))
            .values(managers=MemberFactsRow.managers.op("-")(literal(member_id, String())))
        )
        return roles, projects
