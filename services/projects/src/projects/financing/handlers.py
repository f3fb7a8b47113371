"""Financing use cases: one unit of work each, events recorded in the outbox.

Every use case that changes money locks the project's row first: concurrent pledges, collections
and the due-campaign loop on one project run one after the other, never deadlock, and each sees the
others' totals."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from passerelle.contracts import (
    CampaignCancelled,
    CampaignExtended,
    CampaignFailed,
    CampaignOpened,
    CampaignSucceeded,
    CofundingApplied,
    CofundingOffered,
    FinancingPlanUpdated,
    PledgeCancelled,
    PledgeCollected,
    PledgeCollectionReminded,
    PledgeLapsed,
    PledgeMade,
    PledgeReleased,
    ProjectUpdatePosted,
)
from passerelle.errors import Conflict, Forbidden, IllegalTransition, InvalidField, NotFound
from passerelle.identity import Identity
from passerelle.unit_of_work import UnitOfWork

from ..domain import DRAFT, PUBLISHED, Project
from ..handlers import MAY_NOT_ACT, ProjectsHandlers
from . import domain, references
from .commands import (
    CampaignIn,
    CofundingIn,
    CollectionsIn,
    OfflinePledgeIn,
    PlanIn,
    PledgeIn,
    UpdateIn,
    at_or_now,
)
from .domain import (
    FAILED,
    LAPSED,
    LIVE,
    OPEN,
    PLEDGED,
    RELEASED,
    SUCCEEDED,
    Campaign,
    CofundingOffer,
    CollectionItem,
    Collector,
    Conditions,
    FinancingPlan,
    PlanLine,
    Pledge,
    Programme,
)
from .ledger import Ledger, ledger
from .orm import ProjectUpdateRow
from .repository import FinancingRepository

FinancingUnitOfWork = UnitOfWork[FinancingRepository]
Units = Callable[[], FinancingUnitOfWork]
Clock = Callable[[], datetime]
_Access = ProjectsHandlers  # the projects' authorization helpers, shared rather than copied
_PledgeEvent = type[PledgeCancelled] | type[PledgeReleased] | type[PledgeLapsed]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PlanView:
    plan: FinancingPlan
    may_act: bool  # who may act sees who confirms collections
    may_confirm: bool  # the reader is one of them


@dataclass(frozen=True)
class Receipt:
    """A pledge as its pledger sees it: with what to write on the transfer and where to send it."""

    pledge: Pledge
    payment_instructions: str | None
    collector_name: str | None


@dataclass(frozen=True)
class FinancingRules:
    programmes: dict[str, Programme]
    collection_days: int
    reminder_days: tuple[int, ...]


class FinancingHandlers:
    def __init__(self, units: Units, rules: FinancingRules, clock: Clock = system_clock) -> None:
        self.units = units
        self.rules = rules
        self.clock = clock

    # The plan

    async def plan(self, identity: Identity, project_id: str) -> PlanView:
        async with self.units() as uow:
            repository = uow.repository
            _, may_act = await self._readable(repository, identity, project_id)
            plan = await repository.plan(project_id)
            if plan is None:
                raise NotFound("financing plan of project", project_id)
            return PlanView(plan, may_act, plan.may_confirm(identity.sub))

    async def set_plan(self, identity: Identity, project_id: str, wanted: PlanIn) -> PlanView:
        async with self.units() as uow:
            repository = uow.repository
            project = await self._for_action(repository, identity, project_id)
            for index, sub in enumerate(wanted.collector.confirmer_subs):
                await _Access._check_grantee(repository, f"collector.confirmer_subs.{index}", sub)
            lines = tuple(
                PlanLine(line.source, line.label, Decimal(line.amount), line.status, line.programme_code)
                for line in wanted.lines
            )
            collector = Collector(
                **{**wanted.collector.model_dump(), "confirmer_subs": tuple(wanted.collector.confirmer_subs)}
            )
            plan = FinancingPlan(project_id, Decimal(wanted.budget_amount), wanted.currency, lines, collector)
            plan = plan.checked(self.rules.programmes, _currency(project))
            await repository.save_plan(plan)
            uow.record(
                FinancingPlanUpdated(
                    project_id=project_id,
                    budget_amount=str(plan.budget_amount),
                    currency=plan.currency,
                    lines=[
                        {**line.model_dump(), "amount": str(Decimal(line.amount))} for line in wanted.lines
                    ],
                    collector_kind=collector.kind,
                    collector_name=collector.name,
                )
            )
            await uow.commit()
        return PlanView(plan, may_act=True, may_confirm=plan.may_confirm(identity.sub))

    # Campaigns

    async def open_campaign(self, identity: Identity, project_id: str, wanted: CampaignIn) -> Campaign:
        async with self.units() as uow:
            repository = uow.repository
            project = await self._for_action(repository, identity, project_id)
            if project.status != PUBLISHED:
                raise IllegalTransition(
                    f"campaigns are for published projects; this project is {project.status}"
                )
            current = await repository.current_campaign_of(project_id)
            if current is not None and current.status == OPEN:
                raise Conflict(f"campaign {current.campaign_id} is open on this project: one at a time")
            now = self.clock()
            opens_at = at_or_now(wanted.opens_at, now)
            if wanted.closes_at <= now:
                raise InvalidField("closes_at", "is in the future")
            if wanted.closes_at > now + domain.LONGEST_CAMPAIGN:
                raise InvalidField(
                    "closes_at", f"a campaign closes within {domain.LONGEST_CAMPAIGN.days} days"
                )
            campaign = domain.open_campaign(
                project_id,
                Decimal(wanted.goal_amount),
                Decimal(wanted.minimum_amount) if wanted.minimum_amount else None,
                wanted.currency,
                wanted.rule,
                opens_at,
                wanted.closes_at,
                wanted.collection_days or self.rules.collection_days,
                _currency(project),
            )
            await repository.save_campaign(campaign)
            uow.record(
                CampaignOpened(
                    project_id=project_id,
                    campaign_id=campaign.campaign_id,
                    goal_amount=str(campaign.goal_amount),
                    minimum_amount=str(campaign.minimum_amount) if campaign.minimum_amount else None,
                    currency=campaign.currency,
                    rule=wanted.rule,
                    opens_at=campaign.opens_at,
                    closes_at=campaign.closes_at,
                )
            )
            await uow.commit()
        return campaign

    async def campaign(self, identity: Identity, project_id: str, campaign_id: str) -> Campaign:
        async with self.units() as uow:
            await self._readable(uow.repository, identity, project_id)
            return await self._campaign(uow.repository, project_id, campaign_id)

    async def campaigns(self, identity: Identity, project_id: str) -> list[Campaign]:
        async with self.units() as uow:
            await self._readable(uow.repository, identity, project_id)
            return await uow.repository.campaigns_of(project_id)

    async def extend(
        self, identity: Identity, project_id: str, campaign_id: str, closes_at: datetime
    ) -> Campaign:
        async with self.units() as uow:
            repository = uow.repository
            await self._for_action(repository, identity, project_id)
            before = await self._campaign(repository, project_id, campaign_id, for_update=True)
            campaign = before.extended(closes_at, self.clock())
            await repository.save_campaign(campaign)
            pledges = await repository.pledges_of(project_id, campaign_id=campaign_id)
            uow.record(
                CampaignExtended(
                    project_id=project_id,
                    campaign_id=campaign_id,
                    closes_at=closes_at,
                    previous_closes_at=before.closes_at,
                    pledger_member_ids=_pledgers(pledges),
                )
            )
            await uow.commit()
        return campaign

    async def cancel_campaign(self, identity: Identity, project_id: str, campaign_id: str) -> Campaign:
        async with self.units() as uow:
            repository = uow.repository
            project = await self._for_action(repository, identity, project_id)
            campaign = await self._campaign(repository, project_id, campaign_id, for_update=True)
            campaign = campaign.cancelled(self.clock())
            await repository.save_campaign(campaign)
            await self._release(uow, project, campaign, PledgeReleased)
            uow.record(CampaignCancelled(project_id=project_id, campaign_id=campaign_id))
            await uow.commit()
        return campaign

    async def close_if_due(self, campaign_id: str, now: datetime) -> bool:
        """Close one campaign past its closing time; False when it was not (any more) due, e.g.
        already closed by another replica or before a restart."""
        async with self.units() as uow:
            repository = uow.repository
            found = await repository.campaign(campaign_id)
            if found is None:
                return False
            project = await _Access._load(repository, found.project_id, for_update=True)
            campaign = await repository.campaign(campaign_id, for_update=True)
            if campaign is None or campaign.status != OPEN or campaign.closes_at > now:
                return False
            campaign = campaign.closed(now)
            await repository.save_campaign(campaign)
            pledges = await repository.pledges_of(project.project_id, campaign_id=campaign_id)
            outcome = {
                "project_id": project.project_id,
                "campaign_id": campaign_id,
                "pledged_total": str(campaign.pledged_total),
                "currency": campaign.currency,
                "rule": campaign.rule,
                "pledger_member_ids": _pledgers(pledges),
            }
            if campaign.status == FAILED:
                await self._release(uow, project, campaign, PledgeReleased)
                uow.record(CampaignFailed(**outcome, threshold=str(campaign.threshold)))
            else:
                uow.record(CampaignSucceeded(**outcome, collection_ends_at=campaign.collection_ends_at))
            await uow.commit()
        return True

    async def remind_or_lapse(self, campaign_id: str, now: datetime) -> None:
        """The unpaid pledges of a succeeded campaign: reminded on the days set, lapsed at the end
        of the collection window. Each reminder is counted on its pledge, so it goes out once."""
        async with self.units() as uow:
            repository = uow.repository
            found = await repository.campaign(campaign_id)
            if found is None or found.status != SUCCEEDED:
                return
            project = await _Access._load(repository, found.project_id, for_update=True)
            campaign = await self._campaign(repository, project.project_id, campaign_id, for_update=True)
            ends = campaign.collection_ends_at
            if now >= ends:
                await self._release(uow, project, campaign, PledgeLapsed)
            else:
                due = sum(
                    1
                    for day in self.rules.reminder_days
                    if campaign.closes_at + timedelta(days=day) <= now and day < campaign.collection_days
                )
                for pledge in await repository.pledges_of(
                    project.project_id, campaign_id=campaign_id, status=PLEDGED
                ):
                    if pledge.reminders_sent < due:
                        await repository.save_pledge(replace(pledge, reminders_sent=due))
                        uow.record(
                            PledgeCollectionReminded(
                                **_pledge_facts(pledge), reference=pledge.reference, due_at=ends, reminder=due
                            )
                        )
            await uow.commit()

    # Pledges

    async def pledge(self, identity: Identity, project_id: str, wanted: PledgeIn) -> Receipt:
        async with self.units() as uow:
            repository = uow.repository
            actor = await _Access._actor(repository, identity)
            member_id = wanted.member_id or actor.sub
            await _Access._authorize_pledge(repository, actor, member_id)
            if wanted.on_behalf_of_member_id is not None:
                await self._authorize_on_behalf(repository, actor, wanted.on_behalf_of_member_id)
            project = await _Access._load(repository, project_id, for_update=True)
            campaign = await self._campaign_to_pledge(repository, project_id, wanted.campaign_id)
            pledge = await self._add_pledge(
                uow,
                project,
                campaign,
                Decimal(wanted.amount),
                wanted.currency,
                member_id=member_id,
                on_behalf_of_member_id=wanted.on_behalf_of_member_id,
                public_name=None if wanted.anonymous else wanted.public_name,
            )
            plan = await repository.plan(project_id)
            await uow.commit()
        return _receipt(pledge, plan)

    async def read_pledge(self, identity: Identity, pledge_id: str) -> Receipt:
        async with self.units() as uow:
            repository = uow.repository
            actor = await _Access._actor(repository, identity)
            pledge = await self._pledge(repository, pledge_id)
            project = await _Access._load(repository, pledge.project_id)
            plan = await repository.plan(pledge.project_id)
            confirmer = plan is not None and plan.may_confirm(actor.sub)
            if not (
                confirmer
                or await self._is_pledger(repository, actor, pledge)
                or await _Access._may_act(repository, actor, project)
            ):
                raise Forbidden("a pledge is seen by its pledger, the project's team and its collector")
            return _receipt(pledge, plan)

    async def member_pledges(
        self, identity: Identity, member_id: str, limit: int, offset: int
    ) -> tuple[list[tuple[Pledge, str]], int]:
        """A member's pledges are seen by the member, those who act for them, and operators."""
        async with self.units() as uow:
            repository = uow.repository
            actor = await _Access._actor(repository, identity)
            if not (actor.is_operator or actor.sub == member_id):
                facts = await repository.member(member_id)
                if facts is None or not facts.may_act_for(actor.sub):
                    raise Forbidden(f"the pledges of member {member_id} are seen by them and their managers")
            return await repository.pledges_by_member(member_id, limit, offset)

    async def cancel_pledge(self, identity: Identity, pledge_id: str) -> Pledge:
        async with self.units() as uow:
            repository = uow.repository
            actor = await _Access._actor(repository, identity)
            found = await self._pledge(repository, pledge_id)
            project = await _Access._load(repository, found.project_id, for_update=True)
            if not (
                await self._is_pledger(repository, actor, found)
                or await _Access._may_act(repository, actor, project)
            ):
                raise Forbidden("a pledge is cancelled by its pledger or the project's team")
            campaign = None
            if found.campaign_id is not None:
                campaign = await repository.campaign(found.campaign_id, for_update=True)
            pledge = await repository.pledge(pledge_id, for_update=True)
            assert pledge is not None
            pledge = pledge.cancelled(campaign, self.clock())
            await repository.save_pledge(pledge)
            if campaign is not None:
                await repository.save_campaign(campaign.pledged(-pledge.amount))
            await repository.save_project(
                replace(project, pledged_total=project.pledged_total - pledge.amount)
            )
            uow.record(PledgeCancelled(**_pledge_facts(pledge)))
            await uow.commit()
        return pledge

    # Collections

    async def collect(self, identity: Identity, project_id: str, wanted: CollectionsIn) -> list[Pledge]:
        """All or nothing: one reference that cannot be collected refuses the whole batch."""
        now = self.clock()
        items = [
            CollectionItem(
                references.normalised(item.reference),
                Decimal(item.amount) if item.amount else None,
                item.method,
                at_or_now(item.collected_at, now),
            )
            for item in wanted.items
        ]
        async with self.units() as uow:
            repository = uow.repository
            actor = await _Access._actor(repository, identity)
            project = await _Access._load(repository, project_id, for_update=True)
            domain.may_confirm(await repository.plan(project_id), actor.sub)
            found = await repository.pledges_by_reference(project_id, [item.reference for item in items])
            collected = domain.collect_all(found, items, actor.sub)
            offers = await repository.offers(project_id, for_update=True)
            for pledge, _ in collected:
                offers = await self._record_collection(uow, project, pledge, offers)
            await uow.commit()
        return [pledge for pledge, _ in collected]

    async def offline_pledge(self, identity: Identity, project_id: str, wanted: OfflinePledgeIn) -> Receipt:
        """Money given by hand (cash at a village meeting), recorded by a confirmer: pledged and
        collected at once, in the name of the project's owner, who received it."""
        async with self.units() as uow:
            repository = uow.repository
            actor = await _Access._actor(repository, identity)
            project = await _Access._load(repository, project_id, for_update=True)
            plan = domain.may_confirm(await repository.plan(project_id), actor.sub)
            campaign = await self._campaign_to_pledge(repository, project_id, wanted.campaign_id)
            pledge = await self._add_pledge(
                uow,
                project,
                campaign,
                Decimal(wanted.amount),
                None,
                member_id=project.owner_member_id,
                public_name=wanted.public_name,
                offline=True,
            )
            pledge = pledge.collected(
                None, wanted.method, at_or_now(wanted.collected_at, self.clock()), actor.sub
            )
            offers = await repository.offers(project_id, for_update=True)
            await self._record_collection(uow, project, pledge, offers)
            await uow.commit()
        return _receipt(pledge, plan)

    # Co-funding

    async def offer_cofunding(
        self, identity: Identity, project_id: str, wanted: CofundingIn
    ) -> CofundingOffer:
        async with self.units() as uow:
            repository = uow.repository
            actor = await _Access._actor(repository, identity)
            project = await _Access._load(repository, project_id, for_update=True)
            await self._authorize_sponsor(repository, actor, wanted.sponsor_member_id)
            conditions = Conditions(
                tuple(wanted.conditions.bonds),
                wanted.conditions.starts_on,
                wanted.conditions.ends_on,
                tuple(wanted.conditions.territory_ids),
            )
            offer = domain.offer_cofunding(
                project_id,
                _currency(project),
                await repository.lineage(project.territory_id),
                wanted.sponsor_member_id,
                Decimal(wanted.ratio),
                Decimal(wanted.cap_amount),
                wanted.currency,
                conditions,
            )
            await repository.save_offer(offer)
            uow.record(
                CofundingOffered(
                    project_id=project_id,
                    offer_id=offer.offer_id,
                    sponsor_member_id=offer.sponsor_member_id,
                    ratio=str(offer.ratio),
                    cap_amount=str(offer.cap_amount),
                    currency=offer.currency,
                )
            )
            await uow.commit()
        return offer

    async def offers(self, identity: Identity, project_id: str) -> list[CofundingOffer]:
        async with self.units() as uow:
            await self._readable(uow.repository, identity, project_id)
            return await uow.repository.offers(project_id)

    async def withdraw_offer(self, identity: Identity, offer_id: str) -> CofundingOffer:
        async with self.units() as uow:
            repository = uow.repository
            actor = await _Access._actor(repository, identity)
            found = await repository.offer(offer_id)
            if found is None:
                raise NotFound("co-funding offer", offer_id)
            await _Access._load(repository, found.project_id, for_update=True)
            await self._authorize_sponsor(repository, actor, found.sponsor_member_id)
            offer = await repository.offer(offer_id, for_update=True)
            assert offer is not None
            offer = offer.withdrawn()
            await repository.save_offer(offer)
            await uow.commit()
        return offer

    # Updates and the ledger

    async def post_update(self, identity: Identity, project_id: str, wanted: UpdateIn) -> ProjectUpdateRow:
        async with self.units() as uow:
            repository = uow.repository
            project = await self._for_action(repository, identity, project_id)
            if project.status == DRAFT:
                raise IllegalTransition("updates are for published projects; this one is a draft")
            row = ProjectUpdateRow(
                update_id=str(uuid.uuid4()),
                project_id=project_id,
                author_sub=identity.sub,
                title=wanted.title,
                body=wanted.body,
                posted_at=self.clock(),
            )
            await repository.add_update(row)
            pledges = await repository.pledges_of(project_id)
            uow.record(
                ProjectUpdatePosted(
                    project_id=project_id,
                    update_id=row.update_id,
                    title=row.title,
                    pledger_member_ids=_pledgers(pledges),
                )
            )
            await uow.commit()
        return row

    async def updates(
        self, identity: Identity, project_id: str, limit: int, offset: int
    ) -> tuple[list[ProjectUpdateRow], int]:
        async with self.units() as uow:
            await self._readable(uow.repository, identity, project_id)
            return await uow.repository.updates(project_id, limit, offset)

    async def ledger(self, identity: Identity, project_id: str) -> Ledger:
        async with self.units() as uow:
            repository = uow.repository
            project, _ = await self._readable(repository, identity, project_id)
            return ledger(
                _currency(project),
                await repository.plan(project_id),
                await repository.pledges_of(project_id),
                await repository.offers(project_id),
                await repository.cofunded_by_offer(project_id),
            )

    # What several use cases share

    async def _add_pledge(
        self,
        uow: FinancingUnitOfWork,
        project: Project,
        campaign: Campaign | None,
        amount: Decimal,
        currency: str | None,
        *,
        member_id: str,
        on_behalf_of_member_id: str | None = None,
        public_name: str | None = None,
        offline: bool = False,
    ) -> Pledge:
        """The project's (and campaign's) rows are locked: the time is read after the locks, so that
        a pledge accepted is always before the closing that waited for it."""
        repository = uow.repository
        now = self.clock()
        if campaign is not None:
            campaign.accepting(now)
        pledged = project.pledge(amount, currency, now)
        assert pledged.project.funding is not None
        currency = pledged.project.funding["currency"]
        await repository.save_project(pledged.project)
        if campaign is not None:
            await repository.save_campaign(campaign.pledged(pledged.amount))
        pledge = Pledge(
            pledge_id=pledged.pledge_id,
            project_id=project.project_id,
            member_id=member_id,
            amount=pledged.amount,
            currency=currency,
            pledged_at=now,
            campaign_id=campaign.campaign_id if campaign else None,
            reference=await self._new_reference(repository, project.title),
            on_behalf_of_member_id=on_behalf_of_member_id,
            public_name=public_name,
            offline=offline,
        )
        await repository.add_financed_pledge(pledge)
        uow.record(
            PledgeMade(
                pledge_id=pledge.pledge_id,
                project_id=project.project_id,
                member_id=member_id,
                amount=str(pledge.amount),
                currency=currency,
                campaign_id=pledge.campaign_id,
                reference=pledge.reference,
                on_behalf_of_member_id=on_behalf_of_member_id,
                offline=offline,
            )
        )
        _Access._record_goal_reached(uow, project, pledged.project)
        return pledge

    async def _record_collection(
        self, uow: FinancingUnitOfWork, project: Project, pledge: Pledge, offers: list[CofundingOffer]
    ) -> list[CofundingOffer]:
        """A collection, and the co-funding it brings: each offer matches it at most once."""
        repository = uow.repository
        assert pledge.collected_amount is not None and pledge.collected_at is not None
        await repository.save_pledge(pledge)
        if pledge.campaign_id is not None:
            campaign = await repository.campaign(pledge.campaign_id, for_update=True)
            assert campaign is not None
            total = campaign.collected_total + pledge.collected_amount
            await repository.save_campaign(replace(campaign, collected_total=total))
        uow.record(
            PledgeCollected(
                **_pledge_facts(pledge),
                collected_amount=str(pledge.collected_amount),
                method=pledge.method or "other",
                collected_at=pledge.collected_at,
                offline=pledge.offline,
            )
        )
        lineage = await repository.lineage(project.territory_id)
        bonds = await repository.bonds_to(pledge.on_behalf_of_member_id or pledge.member_id, lineage)
        after = []
        for before in offers:
            offer = before
            amount = before.match(pledge.collected_amount, bonds, pledge.collected_at.date())
            if amount > 0 and await repository.apply_cofunding(
                before.offer_id, pledge.pledge_id, project.project_id, amount
            ):
                offer = before.applied(amount)
                await repository.save_offer(offer)
                uow.record(
                    CofundingApplied(
                        project_id=project.project_id,
                        offer_id=offer.offer_id,
                        pledge_id=pledge.pledge_id,
                        amount=str(amount),
                        currency=offer.currency,
                        remaining_amount=str(offer.remaining),
                        exhausted=offer.status == domain.EXHAUSTED,
                    )
                )
            after.append(offer)
        return after

    async def _release(
        self, uow: FinancingUnitOfWork, project: Project, campaign: Campaign, event: _PledgeEvent
    ) -> None:
        """Every pledge of the campaign still to be paid ends (released or lapsed), each told once;
        the project's total keeps only what still stands."""
        repository = uow.repository
        status = LAPSED if event is PledgeLapsed else RELEASED
        ended = Decimal("0.00")
        for pledge in await repository.pledges_of(
            project.project_id, campaign_id=campaign.campaign_id, status=PLEDGED
        ):
            await repository.save_pledge(replace(pledge, status=status))
            uow.record(event(**_pledge_facts(pledge)))
            ended += pledge.amount
        if ended:
            await repository.save_project(replace(project, pledged_total=project.pledged_total - ended))

    @staticmethod
    async def _new_reference(repository: FinancingRepository, title: str) -> str:
        prefix = references.prefix_of(title)
        for _ in range(10):  # 32^5 references per prefix: a clash is rare, ten in a row never
            reference = references.new_reference(prefix)
            if not await repository.reference_taken(reference):
                return reference
        raise Conflict(f"no free pledge reference with prefix {prefix}; try again")

    @staticmethod
    async def _campaign_to_pledge(
        repository: FinancingRepository, project_id: str, campaign_id: str | None
    ) -> Campaign | None:
        """The campaign named, or the project's latest: once a project has campaigns, its pledges
        go to them. None for a project that never had one (pledges as before campaigns)."""
        if campaign_id is None:
            return await repository.current_campaign_of(project_id)
        campaign = await repository.campaign(campaign_id, for_update=True)
        if campaign is None or campaign.project_id != project_id:
            raise InvalidField("campaign_id", f"this project has no campaign {campaign_id}")
        return campaign

    @staticmethod
    async def _pledge(repository: FinancingRepository, pledge_id: str) -> Pledge:
        pledge = await repository.pledge(pledge_id)
        if pledge is None:
            raise NotFound("pledge", pledge_id)
        return pledge

    @staticmethod
    async def _campaign(
        repository: FinancingRepository, project_id: str, campaign_id: str, *, for_update: bool = False
    ) -> Campaign:
        campaign = await repository.campaign(campaign_id, for_update=for_update)
        if campaign is None or campaign.project_id != project_id:
            raise NotFound("campaign", campaign_id)
        return campaign

    @staticmethod
    async def _for_action(repository: FinancingRepository, identity: Identity, project_id: str) -> Project:
        """The project, locked, for its owner, those who manage it, its territory's managers."""
        actor = await _Access._actor(repository, identity)
        project = await _Access._load(repository, project_id, for_update=True)
        if not await _Access._may_act(repository, actor, project):
            raise Forbidden(MAY_NOT_ACT)
        return project

    @staticmethod
    async def _readable(
        repository: FinancingRepository, identity: Identity, project_id: str
    ) -> tuple[Project, bool]:
        """A project's financing is public once it is published; a draft's, for its team only."""
        project = await _Access._load(repository, project_id)
        reader = await _Access._reader(repository, identity)
        may_act = reader is not None and await _Access._may_act(repository, reader, project)
        if project.status == DRAFT and not may_act:
            raise Forbidden(MAY_NOT_ACT)
        return project, may_act

    @staticmethod
    async def _is_pledger(repository: FinancingRepository, actor: Identity, pledge: Pledge) -> bool:
        for member_id in (pledge.member_id, pledge.on_behalf_of_member_id):
            if member_id is None:
                continue
            if member_id == actor.sub:
                return True
            facts = await repository.member(member_id)
            if facts is not None and facts.may_act_for(actor.sub):
                return True
        return False

    @staticmethod
    async def _authorize_on_behalf(repository: FinancingRepository, actor: Identity, member_id: str) -> None:
        await _Access._check_grantee(repository, "on_behalf_of_member_id", member_id)
        facts = await repository.member(member_id)
        if facts is None or facts.kind != "association":
            raise InvalidField("on_behalf_of_member_id", f"{member_id} is not an association known here")
        if not (actor.is_operator or facts.may_act_for(actor.sub)):
            raise Forbidden(f"you do not give for {member_id}: you do not manage it")

    @staticmethod
    async def _authorize_sponsor(repository: FinancingRepository, actor: Identity, sponsor: str) -> None:
        """An offer is made and withdrawn by those who act for its sponsor, or an operator."""
        if actor.is_operator or sponsor == actor.sub:
            return
        facts = await repository.member(sponsor)
        if facts is None or not facts.may_act_for(actor.sub):
            raise Forbidden(f"only those who act for member {sponsor} offer or withdraw its co-funding")


def _currency(project: Project) -> str | None:
    return project.funding["currency"] if project.funding else None


def _pledgers(pledges: list[Pledge]) -> list[str]:
    """Who gave to what still stands, once each, for the notices."""
    return list(dict.fromkeys(p.member_id for p in pledges if p.member_id and p.status in LIVE))


def _pledge_facts(pledge: Pledge) -> dict[str, str | None]:
    return {
        "project_id": pledge.project_id,
        "pledge_id": pledge.pledge_id,
        "campaign_id": pledge.campaign_id,
        "member_id": pledge.member_id,
        "amount": str(pledge.amount),
        "currency": pledge.currency,
    }


def _receipt(pledge: Pledge, plan: FinancingPlan | None) -> Receipt:
    return Receipt(
        pledge,
        plan.collector.payment_instructions if plan else None,
        plan.collector.name if plan else None,
    )
