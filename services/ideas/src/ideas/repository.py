"""Loading and saving plans, ideas, supports, contributions and reports, and the read models of
members, territories and managers: the protocol the use cases see, and its SQLAlchemy implementation."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any, Protocol

from passerelle.persistence.database import FOREVER
from sqlalchemy import ColumnElement, Select, String, and_, delete, func, literal, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .domain import ERASED, Breakdown, Idea, MemberFacts, Plan, Territory
from .orm import (
    ContributionRow,
    IdeaRow,
    MemberFactsRow,
    PlanRow,
    ProjectLinkRow,
    ReportRow,
    SupportRow,
    TerritoryRoleRow,
    TerritoryRow,
)

_PLAN_FIELDS = [f.name for f in fields(Plan)]
_IDEA_FIELDS = [f.name for f in fields(Idea)]


@dataclass(frozen=True)
class IdeaSearch:
    territory_id: str | None = None  # this territory and every one under it
    plan_id: str | None = None
    axis_id: str | None = None
    kind: str | None = None
    status: str | None = None
    sort: str = "recent"  # or "supports"


@dataclass(frozen=True)
class HiddenReaders:
    """Whose hidden ideas a caller sees: those of the members it acts for, and those in the
    territories it manages. None: every hidden idea (an operator)."""

    authors: Collection[str]
    territories: Collection[str]


class IdeasRepository(Protocol):
    async def territory(self, territory_id: str) -> Territory | None: ...
    async def lineage(self, territory_id: str) -> list[str]: ...
    async def descendants(self, territory_id: str) -> list[str]: ...
    async def remember_territory(self, territory: Territory) -> None: ...
    async def set_role(self, territory_id: str, sub: str, role: str, held: bool, as_of: datetime) -> None: ...
    async def manages_any(self, sub: str, territory_ids: Collection[str]) -> bool: ...
    async def territories_managed_by(self, sub: str) -> list[str]: ...
    async def member(self, member_id: str) -> MemberFacts | None: ...
    async def members_managed_by(self, sub: str) -> list[str]: ...
    async def remember_member(self, facts: MemberFacts, as_of: datetime) -> None: ...
    async def forget_member(self, member_id: str) -> None: ...
    async def plan(self, plan_id: str, *, for_update: bool = False) -> Plan | None: ...
    async def save_plan(self, plan: Plan) -> None: ...
    async def plans(self, territory_id: str | None, limit: int, offset: int) -> tuple[list[Plan], int]: ...
    async def running_plans(self) -> list[str]: ...
    async def lock_idea_id(self, idea_id: str) -> None: ...
    async def idea(self, idea_id: str, *, for_update: bool = False) -> Idea | None: ...
    async def save_idea(self, idea: Idea) -> None: ...
    async def ideas(
        self, wanted: IdeaSearch, hidden: HiddenReaders | None, limit: int, offset: int
    ) -> tuple[list[Idea], int]: ...
    async def breakdowns(self, idea_ids: Collection[str]) -> dict[str, Breakdown]: ...
    async def supports(self, idea_id: str, member_id: str) -> bool: ...
    async def add_support(self, support: SupportRow) -> None: ...
    async def remove_support(self, idea_id: str, member_id: str) -> bool: ...
    async def supporters(self, idea_id: str) -> list[str]: ...
    async def contribution(self, contribution_id: str) -> ContributionRow | None: ...
    async def add_contribution(self, contribution: ContributionRow) -> None: ...
    async def contributions(
        self, idea_id: str, limit: int, offset: int
    ) -> tuple[list[ContributionRow], int]: ...
    async def add_report(self, report: ReportRow) -> bool: ...
    async def open_reports(self, idea_id: str) -> int: ...
    async def settle_reports(self, idea_id: str) -> None: ...
    async def link_project(self, project_id: str, idea_id: str) -> None: ...
    async def projects_naming(self, idea_id: str) -> list[str]: ...


def _plan(row: PlanRow) -> Plan:
    return Plan(**{name: getattr(row, name) for name in _PLAN_FIELDS})


def _idea(row: IdeaRow) -> Idea:
    return Idea(**{name: getattr(row, name) for name in _IDEA_FIELDS})


def _descendants_query(territory_id: str) -> Select[tuple[str]]:
    tree = (
        select(TerritoryRow.territory_id).where(TerritoryRow.territory_id == territory_id).cte(recursive=True)
    )
    tree = tree.union_all(
        select(TerritoryRow.territory_id).where(TerritoryRow.parent_id == tree.c.territory_id)
    )
    return select(tree.c.territory_id)


class SqlIdeasRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Territories and their managers

    async def territory(self, territory_id: str) -> Territory | None:
        row = await self.session.get(TerritoryRow, territory_id)
        return Territory(row.territory_id, row.name, row.country, row.parent_id) if row else None

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

    async def descendants(self, territory_id: str) -> list[str]:
        """The territory and every territory under it."""
        return list(await self.session.scalars(_descendants_query(territory_id)))

    async def remember_territory(self, territory: Territory) -> None:
        statement = insert(TerritoryRow).values(**asdict(territory))
        excluded = statement.excluded
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[TerritoryRow.territory_id],
                set_={"name": excluded.name, "country": excluded.country, "parent_id": excluded.parent_id},
            )
        )

    async def set_role(self, territory_id: str, sub: str, role: str, held: bool, as_of: datetime) -> None:
        """The newest event about the role wins, whatever order they come in."""
        statement = insert(TerritoryRoleRow).values(
            territory_id=territory_id, sub=sub, role=role, held=held, as_of=as_of
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[TerritoryRoleRow.territory_id, TerritoryRoleRow.sub, TerritoryRoleRow.role],
                set_={"held": statement.excluded.held, "as_of": statement.excluded.as_of},
                where=TerritoryRoleRow.as_of < statement.excluded.as_of,
            )
        )

    async def manages_any(self, sub: str, territory_ids: Collection[str]) -> bool:
        query = select(TerritoryRoleRow.sub).where(
            TerritoryRoleRow.sub == sub,
            TerritoryRoleRow.held,
            TerritoryRoleRow.territory_id.in_(list(territory_ids)),
        )
        return await self.session.scalar(query.limit(1)) is not None

    async def territories_managed_by(self, sub: str) -> list[str]:
        granted = await self.session.scalars(
            select(TerritoryRoleRow.territory_id).where(TerritoryRoleRow.sub == sub, TerritoryRoleRow.held)
        )
        managed: set[str] = set()
        for territory_id in list(granted):
            managed.update(await self.descendants(territory_id))
        return sorted(managed)

    # Members

    async def member(self, member_id: str) -> MemberFacts | None:
        row = await self.session.get(MemberFactsRow, member_id)
        if row is None:
            return None
        return MemberFacts(
            row.member_id, row.kind, row.managers, row.country_of_residence, row.attachments, row.erased
        )

    async def members_managed_by(self, sub: str) -> list[str]:
        query = select(MemberFactsRow.member_id).where(MemberFactsRow.managers.contains([sub]))
        return list(await self.session.scalars(query))

    async def remember_member(self, facts: MemberFacts, as_of: datetime) -> None:
        """Keep the newest facts whatever order the events arrive in."""
        values = asdict(facts)
        statement = insert(MemberFactsRow).values(**values, as_of=as_of)
        statement = statement.on_conflict_do_update(
            index_elements=[MemberFactsRow.member_id],
            set_={
                **{name: statement.excluded[name] for name in values if name != "member_id"},
                "as_of": as_of,
            },
            where=MemberFactsRow.as_of < statement.excluded.as_of,
        )
        await self.session.execute(statement)

    async def forget_member(self, member_id: str) -> None:
        """Nothing links to the member any more: what they wrote stays under `erased`, their supports
        stay anonymous (bond and country), their reports go; no late event brings their facts back."""
        await self.remember_member(MemberFacts(member_id, "person", [], "ZZ", [], erased=True), FOREVER)
        await self.session.execute(
            update(SupportRow).where(SupportRow.member_id == member_id).values(member_id=None)
        )
        await self.session.execute(delete(ReportRow).where(ReportRow.member_id == member_id))
        for table in (IdeaRow, ContributionRow):
            await self.session.execute(
                update(table).where(table.author_member_id == member_id).values(author_member_id=ERASED)
            )
        await self.session.execute(
            update(TerritoryRoleRow)
            .where(TerritoryRoleRow.sub == member_id)
            .values(held=False, as_of=FOREVER)
        )
        await self.session.execute(  # an erased person manages no association any more
            update(MemberFactsRow)
            .where(MemberFactsRow.managers.contains([member_id]))
            .values(managers=MemberFactsRow.managers.op("-")(literal(member_id, String())))
        )

    # Plans

    async def plan(self, plan_id: str, *, for_update: bool = False) -> Plan | None:
        row = await self.session.get(PlanRow, plan_id, with_for_update=for_update)
        return _plan(row) if row else None

    async def save_plan(self, plan: Plan) -> None:
        await self.session.merge(PlanRow(**asdict(plan)))
        await self.session.flush()  # before ideas that refer to it

    async def plans(self, territory_id: str | None, limit: int, offset: int) -> tuple[list[Plan], int]:
        where: ColumnElement[bool] = PlanRow.status != "draft"
        if territory_id:
            where = and_(where, PlanRow.territory_id.in_(_descendants_query(territory_id)))
        total = await self.session.scalar(select(func.count()).select_from(PlanRow).where(where))
        rows = await self.session.scalars(
            select(PlanRow)
            .where(where)
            .order_by(PlanRow.created_at.desc(), PlanRow.plan_id)
            .limit(limit)
            .offset(offset)
        )
        return [_plan(row) for row in rows], total or 0

    async def running_plans(self) -> list[str]:
        """Plans whose phases may still start: published or adopted."""
        query = select(PlanRow.plan_id).where(PlanRow.status.in_(["published", "adopted"]))
        return list(await self.session.scalars(query.order_by(PlanRow.plan_id)))

    # Ideas

    async def lock_idea_id(self, idea_id: str) -> None:
        """Until the unit of work ends: a project naming this id and the idea's creation wait for
        each other, so that neither misses the other."""
        await self.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"idea:{idea_id}"))))

    async def idea(self, idea_id: str, *, for_update: bool = False) -> Idea | None:
        row = await self.session.get(IdeaRow, idea_id, with_for_update=for_update)
        return _idea(row) if row else None

    async def save_idea(self, idea: Idea) -> None:
        await self.session.merge(IdeaRow(**asdict(idea)))
        await self.session.flush()  # before supports, contributions and reports that refer to it

    async def ideas(
        self, wanted: IdeaSearch, hidden: HiddenReaders | None, limit: int, offset: int
    ) -> tuple[list[Idea], int]:
        conditions: list[ColumnElement[bool]] = []
        if hidden is not None:
            conditions.append(
                or_(
                    ~IdeaRow.hidden,
                    IdeaRow.author_member_id.in_(list(hidden.authors)),
                    IdeaRow.territory_id.in_(list(hidden.territories)),
                )
            )
        if wanted.territory_id:
            conditions.append(IdeaRow.territory_id.in_(_descendants_query(wanted.territory_id)))
        for name in ("plan_id", "axis_id", "kind", "status"):
            if getattr(wanted, name) is not None:
                conditions.append(getattr(IdeaRow, name) == getattr(wanted, name))
        where = and_(true(), *conditions)
        total = await self.session.scalar(select(func.count()).select_from(IdeaRow).where(where))
        query = select(IdeaRow).where(where)
        if wanted.sort == "supports":
            count = (
                select(func.count())
                .where(SupportRow.idea_id == IdeaRow.idea_id)
                .correlate(IdeaRow)
                .scalar_subquery()
            )
            query = query.order_by(count.desc(), IdeaRow.created_at.desc(), IdeaRow.idea_id)
        else:
            query = query.order_by(IdeaRow.created_at.desc(), IdeaRow.idea_id)
        rows = await self.session.scalars(query.limit(limit).offset(offset))
        return [_idea(row) for row in rows], total or 0

    async def breakdowns(self, idea_ids: Collection[str]) -> dict[str, Breakdown]:
        """Each idea's support by bond and by residence, in one query."""
        query = (
            select(SupportRow.idea_id, SupportRow.bond, SupportRow.in_country, func.count())
            .where(SupportRow.idea_id.in_(list(idea_ids)))
            .group_by(SupportRow.idea_id, SupportRow.bond, SupportRow.in_country)
        )
        counts: dict[str, list[tuple[str, bool, int]]] = {idea_id: [] for idea_id in idea_ids}
        for idea_id, bond, in_country, count in await self.session.execute(query):
            counts[idea_id].append((bond, in_country, count))
        return {idea_id: Breakdown.of(rows) for idea_id, rows in counts.items()}

    async def supports(self, idea_id: str, member_id: str) -> bool:
        query = select(SupportRow.support_id).where(
            SupportRow.idea_id == idea_id, SupportRow.member_id == member_id
        )
        return await self.session.scalar(query) is not None

    async def add_support(self, support: SupportRow) -> None:
        self.session.add(support)
        await self.session.flush()  # a second support of the same member fails here, on the unique index

    async def remove_support(self, idea_id: str, member_id: str) -> bool:
        statement = delete(SupportRow).where(SupportRow.idea_id == idea_id, SupportRow.member_id == member_id)
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def supporters(self, idea_id: str) -> list[str]:
        query = select(SupportRow.member_id).where(
            SupportRow.idea_id == idea_id, SupportRow.member_id.is_not(None)
        )
        return [
            member_id
            for member_id in await self.session.scalars(query.order_by(SupportRow.created_at))
            if member_id
        ]

    # Contributions and reports

    async def contribution(self, contribution_id: str) -> ContributionRow | None:
        return await self.session.get(ContributionRow, contribution_id)

    async def add_contribution(self, contribution: ContributionRow) -> None:
        self.session.add(contribution)

    async def contributions(self, idea_id: str, limit: int, offset: int) -> tuple[list[ContributionRow], int]:
        where = ContributionRow.idea_id == idea_id
        total = await self.session.scalar(select(func.count()).select_from(ContributionRow).where(where))
        query = (
            select(ContributionRow)
            .where(where)
            .order_by(ContributionRow.created_at, ContributionRow.contribution_id)
        )
        return list(await self.session.scalars(query.limit(limit).offset(offset))), total or 0

    async def add_report(self, report: ReportRow) -> bool:
        """False when the member has an open report on the idea already."""
        values: dict[str, Any] = {c.name: getattr(report, c.name) for c in ReportRow.__table__.columns}
        statement = insert(ReportRow).values(**values).on_conflict_do_nothing().returning(ReportRow.member_id)
        return (await self.session.execute(statement)).first() is not None

    async def open_reports(self, idea_id: str) -> int:
        query = select(func.count()).select_from(ReportRow).where(ReportRow.idea_id == idea_id)
        return await self.session.scalar(query) or 0

    async def settle_reports(self, idea_id: str) -> None:
        await self.session.execute(delete(ReportRow).where(ReportRow.idea_id == idea_id))

    # Projects that grew from ideas

    async def link_project(self, project_id: str, idea_id: str) -> None:
        statement = insert(ProjectLinkRow).values(project_id=project_id, idea_id=idea_id)
        await self.session.execute(statement.on_conflict_do_nothing())

    async def projects_naming(self, idea_id: str) -> list[str]:
        query = select(ProjectLinkRow.project_id).where(ProjectLinkRow.idea_id == idea_id)
        return list(await self.session.scalars(query.order_by(ProjectLinkRow.project_id)))
