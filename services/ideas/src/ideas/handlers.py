"""Use cases of the ideas service: one unit of work each; they raise passerelle.errors and know
no HTTP and no messaging."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from passerelle.contracts import (
    ContributionPosted,
    IdeaAnswered,
    IdeaHidden,
    IdeaPromoted,
    IdeaPublished,
    IdeaSupported,
    IdeaSupportWithdrawn,
    IdeaUnhidden,
    MemberProfile,
    PlanPhaseStarted,
    PlanPublished,
    PlanUpdated,
    TerritoryRegistered,
)
from passerelle.errors import Conflict, Forbidden, InvalidField, NotFound
from passerelle.identity import ERASED_IDENTITY, Identity
from passerelle.unit_of_work import UnitOfWork

from . import domain
from .commands import Answer, Contribute, CreatePlan, EditPlan, Link, PostIdea
from .config import IdeasSettings
from .domain import SUPPORT_PHASES, Breakdown, Idea, MemberFacts, Plan, Territory
from .orm import ContributionRow, ReportRow, SupportRow
from .repository import HiddenReaders, IdeaSearch, IdeasRepository

IdeasUnitOfWork = UnitOfWork[IdeasRepository]
MANAGERS_ONLY = "only a manager of the territory (or of one above it) or an operator does this"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class IdeaView:
    idea: Idea
    supports: Breakdown


@dataclass(frozen=True)
class AxisPriorities:
    axis: dict[str, object] | None  # None: the plan's ideas on no axis
    ideas: list[IdeaView]


class IdeasHandlers:
    def __init__(
        self,
        units: Callable[[], IdeasUnitOfWork],
        settings: IdeasSettings,
        sectors: Collection[str],
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.units = units
        self.settings = settings
        self.sectors = frozenset(sectors)
        self.clock = clock

    def today(self) -> date:
        return self.clock().astimezone(UTC).date()

    # Plans

    async def create_plan(self, identity: Identity, command: CreatePlan) -> Plan:
        async with self.units() as uow:
            repository = uow.repository
            if await repository.territory(command.territory_id) is None:
                raise InvalidField("territory_id", f"territory {command.territory_id} is not known here")
            await self._check_manager(repository, identity, command.territory_id)
            plan = domain.create_plan(command)
            await repository.save_plan(plan)
            await uow.commit()
        return plan

    async def edit_plan(self, identity: Identity, plan_id: str, edit: EditPlan) -> Plan:
        async with self.units() as uow:
            before = await self._plan_to_manage(uow.repository, identity, plan_id)
            plan = before.edited(edit)
            if plan == before:
                return plan
            plan = self._announced(uow, plan)
            await uow.repository.save_plan(plan)
            if plan.status != domain.DRAFT:
                uow.record(PlanUpdated(**plan.snapshot()))
            await uow.commit()
        return plan

    async def publish_plan(self, identity: Identity, plan_id: str) -> Plan:
        async with self.units() as uow:
            plan = (await self._plan_to_manage(uow.repository, identity, plan_id)).publish()
            uow.record(PlanPublished(**plan.snapshot()))
            plan = self._announced(uow, plan)
            await uow.repository.save_plan(plan)
            await uow.commit()
        return plan

    async def move_plan(self, identity: Identity, plan_id: str, to: str) -> Plan:
        """Adopt or archive a plan (`to`: adopted or archived)."""
        async with self.units() as uow:
            before = await self._plan_to_manage(uow.repository, identity, plan_id)
            plan = before.adopt() if to == domain.ADOPTED else before.archive()
            await uow.repository.save_plan(plan)
            uow.record(PlanUpdated(**plan.snapshot()))
            await uow.commit()
        return plan

    async def plan(self, identity: Identity, plan_id: str) -> Plan:
        """A draft is seen by those who manage it; other plans by every signed-in member."""
        async with self.units() as uow:
            plan = await _load_plan(uow.repository, plan_id)
            if plan.status == domain.DRAFT and not await self._manages(
                uow.repository, identity, plan.territory_id
            ):
                raise Forbidden("a draft plan is seen only by the territory's managers")
            return plan

    async def plans(self, territory_id: str | None, limit: int, offset: int) -> tuple[list[Plan], int]:
        async with self.units() as uow:
            return await uow.repository.plans(territory_id, limit, offset)

    async def priorities(self, identity: Identity, plan_id: str) -> list[AxisPriorities]:
        """The plan's ideas, most supported first, per axis (its axes in order, then those on none);
        hidden and withdrawn ideas are not ranked."""
        plan = await self.plan(identity, plan_id)
        async with self.units() as uow:
            found, _ = await uow.repository.ideas(
                IdeaSearch(plan_id=plan_id, sort="supports"), HiddenReaders((), ()), 10_000, 0
            )
            ranked = [idea for idea in found if not idea.hidden and idea.status != "withdrawn"]
            breakdowns = await uow.repository.breakdowns([idea.idea_id for idea in ranked])
        views = [IdeaView(idea, breakdowns[idea.idea_id]) for idea in ranked]
        views.sort(key=lambda view: -view.supports.total)  # stable: ties stay newest first
        known = {axis["axis_id"] for axis in plan.axes}
        per_axis = [
            AxisPriorities(axis, [v for v in views if v.idea.axis_id == axis["axis_id"]])
            for axis in plan.axes
        ]
        unplaced = [view for view in views if view.idea.axis_id not in known]
        return [*per_axis, AxisPriorities(None, unplaced)] if unplaced else per_axis

    async def start_due_phases(self) -> int:
        """Tell each running plan's phase that began (PlanPhaseStarted), each plan in its own unit of
        work; returns how many were told."""
        async with self.units() as uow:
            plan_ids = await uow.repository.running_plans()
        told = 0
        for plan_id in plan_ids:
            async with self.units() as uow:
                before = await _load_plan(uow.repository, plan_id, for_update=True)
                plan = self._announced(uow, before)
                if plan != before:
                    await uow.repository.save_plan(plan)
                    await uow.commit()
                    told += 1
        return told

    def _announced(self, uow: IdeasUnitOfWork, plan: Plan) -> Plan:
        phase = plan.phase_to_announce(self.today())
        if phase is None:
            return plan
        uow.record(
            PlanPhaseStarted(plan_id=plan.plan_id, territory_id=plan.territory_id, title=plan.title, **phase)
        )
        return replace(plan, announced_phase=phase["phase"])

    async def _plan_to_manage(self, repository: IdeasRepository, identity: Identity, plan_id: str) -> Plan:
        plan = await _load_plan(repository, plan_id, for_update=True)
        await self._check_manager(repository, identity, plan.territory_id)
        return plan

    # Ideas

    async def post_idea(self, identity: Identity, command: PostIdea) -> Idea:
        async with self.units() as uow:
            repository = uow.repository
            territory = await repository.territory(command.territory_id)
            if territory is None:
                raise InvalidField("territory_id", f"territory {command.territory_id} is not known here")
            author = command.author_member_id or identity.sub
            await self._attached(repository, identity, author, territory, "post ideas for")
            plan = None
            if command.plan_id is not None:
                plan = await repository.plan(command.plan_id)
                if plan is None or plan.status == domain.DRAFT:
                    raise InvalidField("plan_id", f"plan {command.plan_id} is not published")
                if plan.territory_id not in await repository.lineage(territory.territory_id):
                    raise InvalidField("plan_id", "the plan is of another territory")
                plan.check_open_for("ideas are posted to", ("ideas",), self.today())
            if command.idea_id is not None:
                await repository.lock_idea_id(command.idea_id)
                if await repository.idea(command.idea_id) is not None:
                    raise Conflict(f"idea {command.idea_id} exists already")
            idea = domain.post_idea(command, author, plan, self.sectors, self.clock())
            uow.record(IdeaPublished.model_validate(idea, from_attributes=True))
            for project_id in await repository.projects_naming(idea.idea_id):  # named before it came
                idea = idea.promoted(project_id)
                uow.record(IdeaPromoted(idea_id=idea.idea_id, project_id=project_id))
            await repository.save_idea(idea)
            await uow.commit()
        return idea

    async def idea(self, identity: Identity, idea_id: str) -> IdeaView:
        async with self.units() as uow:
            idea = await self._visible(uow.repository, identity, idea_id)
            return IdeaView(idea, (await uow.repository.breakdowns([idea_id]))[idea_id])

    async def ideas(
        self, identity: Identity, wanted: IdeaSearch, limit: int, offset: int
    ) -> tuple[list[IdeaView], int]:
        """Hidden ideas only to their authors and the territory's managers."""
        async with self.units() as uow:
            repository = uow.repository
            hidden = None
            if not identity.is_operator:
                authors = [identity.sub, *await repository.members_managed_by(identity.sub)]
                hidden = HiddenReaders(authors, await repository.territories_managed_by(identity.sub))
            found, total = await repository.ideas(wanted, hidden, limit, offset)
            breakdowns = await repository.breakdowns([idea.idea_id for idea in found])
        return [IdeaView(idea, breakdowns[idea.idea_id]) for idea in found], total

    async def support(self, identity: Identity, idea_id: str, member_id: str | None) -> IdeaView:
        """One support per member and idea, from a member attached to its place; the idea's row is
        locked so that two supports of one member cannot both pass."""
        async with self.units() as uow:
            repository = uow.repository
            idea = await self._visible(repository, identity, idea_id, for_update=True)
            territory = await _territory(repository, idea.territory_id)
            supporter = member_id or identity.sub
            facts, bond = await self._attached(
                repository, identity, supporter, territory, "support the ideas of"
            )
            idea.takes_support()
            await self._check_support_phase(repository, idea)
            if await repository.supports(idea_id, supporter):
                raise Conflict(f"member {supporter} supports this idea already")
            in_country = facts.country_of_residence == territory.country
            await repository.add_support(
                SupportRow(
                    support_id=str(uuid.uuid4()),
                    idea_id=idea_id,
                    member_id=supporter,
                    bond=bond,
                    country=facts.country_of_residence,
                    in_country=in_country,
                    created_at=self.clock(),
                )
            )
            uow.record(IdeaSupported(idea_id=idea_id, member_id=supporter, bond=bond, in_country=in_country))
            view = IdeaView(idea, (await repository.breakdowns([idea_id]))[idea_id])
            await uow.commit()
        return view

    async def withdraw_support(self, identity: Identity, idea_id: str, member_id: str | None) -> None:
        async with self.units() as uow:
            repository = uow.repository
            idea = await self._visible(repository, identity, idea_id, for_update=True)
            supporter = member_id or identity.sub
            await _acting(repository, identity, supporter)
            await self._check_support_phase(repository, idea)
            if not await repository.remove_support(idea_id, supporter):
                raise NotFound(f"support of member {supporter} for idea", idea_id)
            uow.record(IdeaSupportWithdrawn(idea_id=idea_id, member_id=supporter))
            await uow.commit()

    async def withdraw(self, identity: Identity, idea_id: str) -> Idea:
        """Its author takes an idea back while nobody has decided on it."""
        async with self.units() as uow:
            idea = await _load_idea(uow.repository, idea_id, for_update=True)
            await _acting(uow.repository, identity, idea.author_member_id)
            idea = idea.withdrawn()
            await uow.repository.save_idea(idea)
            await uow.commit()
        return idea

    async def _check_support_phase(self, repository: IdeasRepository, idea: Idea) -> None:
        if idea.plan_id is not None:
            plan = await _load_plan(repository, idea.plan_id)
            plan.check_open_for("support is given to the ideas of", SUPPORT_PHASES, self.today())

    # Contributions

    async def contribute(self, identity: Identity, idea_id: str, command: Contribute) -> ContributionRow:
        async with self.units() as uow:
            repository = uow.repository
            idea = await self._visible(repository, identity, idea_id)
            territory = await _territory(repository, idea.territory_id)
            author = command.member_id or identity.sub
            await self._attached(repository, identity, author, territory, "contribute to the ideas of")
            if command.parent_id is not None:
                parent = await repository.contribution(command.parent_id)
                if parent is None or parent.idea_id != idea_id:
                    raise InvalidField("parent_id", f"this idea has no contribution {command.parent_id}")
                if parent.parent_id is not None:
                    raise InvalidField(
                        "parent_id", "a reply is answered under the contribution it replies to"
                    )
            row = ContributionRow(
                contribution_id=str(uuid.uuid4()),
                idea_id=idea_id,
                author_member_id=author,
                kind=command.kind,
                body=command.body,
                parent_id=command.parent_id,
                created_at=self.clock(),
            )
            await repository.add_contribution(row)
            uow.record(
                ContributionPosted(
                    idea_id=idea_id,
                    contribution_id=row.contribution_id,
                    author_member_id=author,
                    kind=command.kind,
                    parent_id=command.parent_id,
                )
            )
            await uow.commit()
        return row

    async def contributions(
        self, identity: Identity, idea_id: str, limit: int, offset: int
    ) -> tuple[list[ContributionRow], int]:
        async with self.units() as uow:
            await self._visible(uow.repository, identity, idea_id)
            return await uow.repository.contributions(idea_id, limit, offset)

    # Managers' answers and moderation

    async def answer(self, identity: Identity, idea_id: str, command: Answer) -> Idea:
        """The author and every supporter are told (the event names them)."""
        async with self.units() as uow:
            repository = uow.repository
            idea = await _load_idea(repository, idea_id, for_update=True)
            await self._check_manager(repository, identity, idea.territory_id)
            idea = idea.answered(command.status, command.answer, self.clock())
            await repository.save_idea(idea)
            uow.record(
                IdeaAnswered(
                    idea_id=idea_id,
                    territory_id=idea.territory_id,
                    title=idea.title,
                    status=idea.status,
                    answer=command.answer,
                    author_member_id=idea.author_member_id,
                    supporter_member_ids=await repository.supporters(idea_id),
                )
            )
            await uow.commit()
        return idea

    async def report(self, identity: Identity, idea_id: str, reason: str) -> Idea:
        """Once per member while it is open; the report that makes enough hides the idea."""
        async with self.units() as uow:
            repository = uow.repository
            idea = await self._visible(repository, identity, idea_id, for_update=True)
            await _acting(repository, identity, identity.sub)
            row = ReportRow(idea_id=idea_id, member_id=identity.sub, reason=reason, created_at=self.clock())
            if not await repository.add_report(row):
                raise Conflict("you reported this idea already; managers will decide")
            if not idea.hidden and await repository.open_reports(idea_id) >= self.settings.reports_to_hide:
                idea = replace(idea, hidden=True)
                await repository.save_idea(idea)
                uow.record(IdeaHidden(idea_id=idea_id, by="reports"))
            await uow.commit()
        return idea

    async def moderate(self, identity: Identity, idea_id: str, hide: bool) -> Idea:
        """A manager hides or restores an idea; either way the open reports are settled."""
        async with self.units() as uow:
            repository = uow.repository
            idea = await _load_idea(repository, idea_id, for_update=True)
            await self._check_manager(repository, identity, idea.territory_id)
            await repository.settle_reports(idea_id)
            if idea.hidden != hide:
                idea = replace(idea, hidden=hide)
                await repository.save_idea(idea)
                uow.record(
                    IdeaHidden(idea_id=idea_id, by="manager") if hide else IdeaUnhidden(idea_id=idea_id)
                )
            await uow.commit()
        return idea

    async def link(self, identity: Identity, idea_id: str, link: Link) -> Idea:
        """A manager records what an idea led to (a gathering, an opportunity, a project)."""
        async with self.units() as uow:
            before = await _load_idea(uow.repository, idea_id, for_update=True)
            await self._check_manager(uow.repository, identity, before.territory_id)
            idea = before.linked(link.kind, link.id)
            if idea != before:
                await uow.repository.save_idea(idea)
                await uow.commit()
        return idea

    # What ideas learns from the members and projects services

    async def remember_member(self, profile: MemberProfile, as_of: datetime, uow: IdeasUnitOfWork) -> None:
        facts = MemberFacts(
            profile.member_id,
            profile.kind,
            list(profile.managers),
            profile.country_of_residence,
            [attachment.model_dump() for attachment in profile.attachments],
        )
        await uow.repository.remember_member(facts, as_of)

    async def forget_member(self, member_id: str, uow: IdeasUnitOfWork) -> None:
        """An erased member's support stays counted, anonymous; what they wrote stays, authorless."""
        await uow.repository.forget_member(member_id)

    async def remember_territory(self, data: TerritoryRegistered, uow: IdeasUnitOfWork) -> None:
        await uow.repository.remember_territory(
            Territory(data.territory_id, data.name, data.country, data.parent_id)
        )

    async def remember_role(
        self, territory_id: str, sub: str, role: str, held: bool, as_of: datetime, uow: IdeasUnitOfWork
    ) -> None:
        await uow.repository.set_role(territory_id, sub, role, held, as_of)

    async def promote(self, project_id: str, idea_ids: list[str], uow: IdeasUnitOfWork) -> None:
        """A project named the ideas it grew from: each known one is promoted with the link; one not
        known yet is promoted when it comes."""
        repository = uow.repository
        for idea_id in sorted(set(idea_ids)):  # one order for every project: no deadlock between two
            await repository.lock_idea_id(idea_id)
            await repository.link_project(project_id, idea_id)
            idea = await repository.idea(idea_id, for_update=True)
            if idea is None:
                continue
            promoted = idea.promoted(project_id)
            if promoted != idea:
                await repository.save_idea(promoted)
                uow.record(IdeaPromoted(idea_id=idea_id, project_id=project_id))

    # Who may do what

    async def _manages(self, repository: IdeasRepository, identity: Identity, territory_id: str) -> bool:
        if identity.is_operator:
            return True
        return await repository.manages_any(identity.sub, await repository.lineage(territory_id))

    async def _check_manager(
        self, repository: IdeasRepository, identity: Identity, territory_id: str
    ) -> None:
        if not await self._manages(repository, identity, territory_id):
            raise Forbidden(MANAGERS_ONLY)

    async def _visible(
        self, repository: IdeasRepository, identity: Identity, idea_id: str, *, for_update: bool = False
    ) -> Idea:
        """A hidden idea is seen only by its author (and those who act for them) and managers."""
        idea = await _load_idea(repository, idea_id, for_update=for_update)
        if not idea.hidden or await self._manages(repository, identity, idea.territory_id):
            return idea
        author = await repository.member(idea.author_member_id)
        if author is not None and author.may_act_for(identity.sub):
            return idea
        raise Forbidden("this idea is hidden while the territory's managers look at its reports")

    async def _attached(
        self,
        repository: IdeasRepository,
        identity: Identity,
        member_id: str,
        territory: Territory,
        doing: str,
    ) -> tuple[MemberFacts, str]:
        """The member the caller acts as, and its bond to the territory or a place above or below it."""
        facts = await _acting(repository, identity, member_id)
        places = {
            *await repository.lineage(territory.territory_id),
            *await repository.descendants(territory.territory_id),
        }
        bond = facts.bond_within(places)
        if bond is None:
            raise Forbidden(
                f"only members attached to {territory.name} or to a place above or below it (by origin,"
                f" family or heart) {doing} it; member {member_id} is attached to none of them"
            )
        return facts, bond


async def _acting(repository: IdeasRepository, identity: Identity, member_id: str) -> MemberFacts:
    """The member the caller acts as: themselves, or a member they manage."""
    facts = await repository.member(member_id)
    if facts is not None and facts.erased:
        raise Forbidden(ERASED_IDENTITY if member_id == identity.sub else f"member {member_id} was erased")
    if facts is None:
        raise Forbidden(f"member {member_id} is not known here (yet): register, or try again in a moment")
    if not facts.may_act_for(identity.sub):
        raise Forbidden(f"you do not act for member {member_id}")
    return facts


async def _load_plan(repository: IdeasRepository, plan_id: str, *, for_update: bool = False) -> Plan:
    plan = await repository.plan(plan_id, for_update=for_update)
    if plan is None:
        raise NotFound("plan", plan_id)
    return plan


async def _load_idea(repository: IdeasRepository, idea_id: str, *, for_update: bool = False) -> Idea:
    idea = await repository.idea(idea_id, for_update=for_update)
    if idea is None:
        raise NotFound("idea", idea_id)
    return idea


async def _territory(repository: IdeasRepository, territory_id: str) -> Territory:
    territory = await repository.territory(territory_id)
    if territory is None:  # an idea is only posted in a known territory, and they are never removed
        raise NotFound("territory", territory_id)
    return territory
