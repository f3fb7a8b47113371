"""Use cases of the opportunities service: one unit of work each; they raise passerelle.errors and know
no HTTP and no messaging."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

import structlog
from passerelle.contracts import (
    ERASED_OWNER,
    InterestDeclined,
    InterestExpressed,
    InterestWithdrawn,
    IntroductionMade,
    MemberProfile,
    OpportunityClosed,
    OpportunityExpiring,
    OpportunityPublished,
    OpportunityReviewed,
    OpportunitySubmitted,
    OpportunityUpdated,
)
from passerelle.contracts.opportunities import InterestEnd
from passerelle.errors import Conflict, Forbidden, InvalidField, NotFound, RuleBroken
from passerelle.identity import ERASED_IDENTITY, Identity
from passerelle.taxonomy import Taxonomy
from passerelle.unit_of_work import UnitOfWork

from . import domain
from .commands import CreateOpportunity, Decline, EditOpportunity, ExpressInterest, Review
from .config import OpportunitiesSettings
from .domain import (
    CLOSED,
    DECLINED,
    EXPIRED,
    INTRODUCED,
    OPEN,
    PENDING,
    REMINDER,
    WITHDRAWN,
    Checks,
    Interest,
    MemberFacts,
    Opportunity,
)
from .programmes import Catalogue, SupportProgramme
from .repository import OpportunitySearch, SqlOpportunitiesRepository, Visibility

log = structlog.get_logger(__name__)

OpportunitiesUnitOfWork = UnitOfWork[SqlOpportunitiesRepository]
Clock = Callable[[], datetime]
MAY_NOT_ACT = "only the promoter, those who act for it, a manager of the territory or an operator act on it"
MAY_NOT_ANSWER = "only the promoter, or those who act for it, answer an interest"


@dataclass(frozen=True)
class OpportunityView:
    """An opportunity, with whether the reader may act on it (they then see the review notes)."""

    opportunity: Opportunity
    may_act: bool


@dataclass(frozen=True)
class InterestCard:
    """An interest as its promoter sees it: who, in what role, never how to reach them."""

    interest: Interest
    member: MemberFacts | None


class OpportunitiesHandlers:
    def __init__(
        self,
        units: Callable[[], OpportunitiesUnitOfWork],
        settings: OpportunitiesSettings,
        taxonomy: Taxonomy,
        catalogue: Catalogue,
        clock: Clock,
    ) -> None:
        self.units = units
        self.settings = settings
        self.catalogue = catalogue
        self.checks = Checks(taxonomy, catalogue.programmes)
        self.clock = clock

    # Opportunities and their review

    async def create(self, identity: Identity, command: CreateOpportunity) -> Opportunity:
        promoter_id = command.promoter_member_id or identity.sub
        async with self.units() as uow:
            repository = uow.repository
            actor = await _actor(repository, identity)
            if not await repository.territory_known(command.territory_id):
                raise InvalidField("territory_id", f"territory {command.territory_id} does not exist")
            if promoter_id != actor.sub:
                promoter = await repository.member(promoter_id)
                if promoter is None or promoter.erased:
                    raise InvalidField("promoter_member_id", f"member {promoter_id} is not known")
                manages = await repository.manages_any(
                    actor.sub, await repository.lineage(command.territory_id)
                )
                if not (actor.is_operator or manages or promoter.may_act_for(actor.sub)):
                    raise Forbidden(f"you do not act for member {promoter_id}")
            promoted = await repository.count_promoted_by(promoter_id)
            if promoted >= self.settings.max_per_member:
                raise RuleBroken(f"a member may promote at most {self.settings.max_per_member} opportunities")
            opportunity = domain.create(promoter_id, command, self.checks, self.clock())
            await repository.save(opportunity)
            await uow.commit()
        return opportunity

    async def opportunity(self, identity: Identity, opportunity_id: str) -> OpportunityView:
        """Until approved, an opportunity exists only for its promoter and reviewers (404 to others)."""
        async with self.units() as uow:
            repository = uow.repository
            opportunity = await _load(repository, opportunity_id)
            reader = None if await repository.was_erased(identity.sub) else identity
            may_act = reader is not None and await _may_act(repository, reader, opportunity)
            if not (opportunity.visible_to_members or may_act):
                raise NotFound("opportunity", opportunity_id)
            return OpportunityView(opportunity, may_act)

    async def opportunities(
        self, identity: Identity, wanted: OpportunitySearch, limit: int, offset: int
    ) -> tuple[list[Opportunity], int]:
        async with self.units() as uow:
            repository = uow.repository
            if wanted.territory_id and not await repository.territory_known(wanted.territory_id):
                raise InvalidField("territory_id", f"territory {wanted.territory_id} does not exist")
            return await repository.search(wanted, await _visibility(repository, identity), limit, offset)

    async def edit(self, identity: Identity, opportunity_id: str, edit: EditOpportunity) -> Opportunity:
        async with self.units() as uow:
            before = await _load_for_action(uow.repository, identity, opportunity_id)
            after = before.edited(edit, self.checks)
            if after != before:
                await uow.repository.save(after)
                if after.status == OPEN:
                    uow.record(OpportunityUpdated(**after.snapshot()))
                await uow.commit()
        return after

    async def submit(self, identity: Identity, opportunity_id: str) -> Opportunity:
        async with self.units() as uow:
            opportunity = await _load_for_action(uow.repository, identity, opportunity_id)
            opportunity = opportunity.submit(self.clock())
            await uow.repository.save(opportunity)
            uow.record(
                OpportunitySubmitted(
                    opportunity_id=opportunity_id,
                    territory_id=opportunity.territory_id,
                    promoter_member_id=opportunity.promoter_member_id,
                    title=opportunity.title,
                )
            )
            await uow.commit()
        return opportunity

    async def review(self, identity: Identity, opportunity_id: str, review: Review) -> Opportunity:
        """Managers of the territory or above review; a promoter never approves their own."""
        async with self.units() as uow:
            repository = uow.repository
            actor = await _actor(repository, identity)
            opportunity = await _load(repository, opportunity_id, for_update=True)
            if not await _reviews(repository, actor, opportunity):
                if opportunity.visible_to_members or await _may_act(repository, actor, opportunity):
                    raise Forbidden(
                        "a manager of the territory or above reviews an opportunity, not its promoter"
                    )
                raise NotFound("opportunity", opportunity_id)
            reviewed = opportunity.reviewed(review.decision, review.notes, actor.sub, self.clock())
            await repository.save(reviewed)
            uow.record(
                OpportunityReviewed(
                    opportunity_id=opportunity_id,
                    territory_id=reviewed.territory_id,
                    promoter_member_id=reviewed.promoter_member_id,
                    title=reviewed.title,
                    decision=review.decision,
                )
            )
            if reviewed.status == OPEN:
                uow.record(OpportunityPublished(**reviewed.snapshot()))
            await uow.commit()
        return reviewed

    async def renew(self, identity: Identity, opportunity_id: str) -> Opportunity:
        async with self.units() as uow:
            opportunity = await _load_for_action(uow.repository, identity, opportunity_id)
            renewed = opportunity.renewed(self.clock().date())
            if renewed != opportunity:
                await uow.repository.save(renewed)
                uow.record(OpportunityUpdated(**renewed.snapshot()))
                await uow.commit()
        return renewed

    async def close(self, identity: Identity, opportunity_id: str, outcome: str) -> Opportunity:
        async with self.units() as uow:
            opportunity = await _load_for_action(uow.repository, identity, opportunity_id)
            closed = await _close(uow, opportunity, outcome, self.clock())
            await uow.commit()
        return closed

    # Reminders and expiry

    async def remind_and_expire(self) -> int:
        """Remind promoters of what expires within the notice, and close what expired, each in its own
        unit of work (one that fails is logged and tried again next time, the others go on); returns
        how many changed. A reminder is sent once per expiry date, an expiry happens once."""
        today = self.clock().date()
        async with self.units() as uow:
            due = await uow.repository.open_expiring_by(today + REMINDER)
        changed = 0
        for opportunity_id in due:
            try:
                changed += await self._remind_or_expire(opportunity_id)
            except Exception:
                log.exception("opportunities.expiry_failed", opportunity_id=opportunity_id)
        return changed

    async def _remind_or_expire(self, opportunity_id: str) -> bool:
        now = self.clock()
        async with self.units() as uow:
            opportunity = await _load(uow.repository, opportunity_id, for_update=True)
            if opportunity.expired_by(now.date()):
                await _close(uow, opportunity, "expired", now)
            elif opportunity.reminder_due(now.date()) and opportunity.expires_on is not None:
                await uow.repository.save(replace(opportunity, reminded_for=opportunity.expires_on))
                uow.record(
                    OpportunityExpiring(
                        opportunity_id=opportunity_id,
                        promoter_member_id=opportunity.promoter_member_id,
                        title=opportunity.title,
                        expires_on=opportunity.expires_on,
                    )
                )
            else:  # renewed or closed meanwhile
                return False
            await uow.commit()
        return True

    # Interests and introductions

    async def express_interest(
        self, identity: Identity, opportunity_id: str, command: ExpressInterest
    ) -> Interest:
        async with self.units() as uow:
            repository = uow.repository
            actor = await _actor(repository, identity)
            opportunity = await _load(repository, opportunity_id, for_update=True)  # one interest at a time
            if not opportunity.visible_to_members and not await _may_act(repository, actor, opportunity):
                raise NotFound("opportunity", opportunity_id)
            if await repository.interest_of(opportunity_id, actor.sub) is not None:
                raise Conflict("you already expressed interest in this opportunity")
            interest = domain.express_interest(opportunity, actor.sub, command, self.clock())
            await repository.save_interest(interest)
            uow.record(
                InterestExpressed(
                    interest_id=interest.interest_id,
                    opportunity_id=opportunity_id,
                    member_id=actor.sub,
                    promoter_member_id=opportunity.promoter_member_id,
                    role=interest.role,
                    title=opportunity.title,
                )
            )
            await uow.commit()
        return interest

    async def interests(self, identity: Identity, opportunity_id: str) -> list[InterestCard]:
        """The promoter's desk, and the reviewers': each interested member's card, no contact detail."""
        async with self.units() as uow:
            repository = uow.repository
            opportunity = await _load_for_action(repository, identity, opportunity_id, lock=False)
            interests = await repository.interests(opportunity.opportunity_id)
            members = await repository.members([interest.member_id for interest in interests])
            return [InterestCard(interest, members.get(interest.member_id)) for interest in interests]

    async def interests_of_member(self, identity: Identity, member_id: str) -> list[Interest]:
        """A member's own interests, newest first (an operator's view of anyone's)."""
        async with self.units() as uow:
            actor = await _actor(uow.repository, identity)
            if not (actor.is_operator or actor.sub == member_id):
                raise Forbidden("a member sees their own interests")
            return await uow.repository.interests_of_member(member_id)

    async def accept(self, identity: Identity, interest_id: str) -> Interest:
        async with self.units() as uow:
            interest, opportunity = await self._load_to_answer(uow.repository, identity, interest_id)
            if opportunity.status != OPEN:
                raise RuleBroken(
                    f"introductions are made on open opportunities; this one is {opportunity.status}"
                )
            accepted = interest.answered(INTRODUCED, self.clock())
            await uow.repository.save_interest(accepted)
            uow.record(
                IntroductionMade(
                    interest_id=interest_id,
                    opportunity_id=opportunity.opportunity_id,
                    promoter_member_id=opportunity.promoter_member_id,
                    member_id=interest.member_id,
                    role=interest.role,
                    title=opportunity.title,
                )
            )
            await uow.commit()
        return accepted

    async def decline(self, identity: Identity, interest_id: str, decline: Decline) -> Interest:
        """The member is told kindly; the reason stays with the promoter."""
        async with self.units() as uow:
            interest, opportunity = await self._load_to_answer(uow.repository, identity, interest_id)
            declined = interest.answered(
                DECLINED, self.clock(), decline_reason=decline.reason_code, decline_note=decline.note
            )
            await uow.repository.save_interest(declined)
            uow.record(
                InterestDeclined(
                    interest_id=interest_id,
                    opportunity_id=opportunity.opportunity_id,
                    member_id=interest.member_id,
                    title=opportunity.title,
                )
            )
            await uow.commit()
        return declined

    async def withdraw_interest(self, identity: Identity, interest_id: str) -> Interest:
        async with self.units() as uow:
            repository = uow.repository
            actor = await _actor(repository, identity)
            interest = await repository.interest(interest_id, for_update=True)
            if interest is None or not (actor.is_operator or actor.sub == interest.member_id):
                raise NotFound("interest", interest_id)
            opportunity = await _load(repository, interest.opportunity_id)
            withdrawn = interest.answered(WITHDRAWN, self.clock())
            await repository.save_interest(withdrawn)
            uow.record(_interest_ended(withdrawn, opportunity, "withdrawn"))
            await uow.commit()
        return withdrawn

    async def _load_to_answer(
        self, repository: SqlOpportunitiesRepository, identity: Identity, interest_id: str
    ) -> tuple[Interest, Opportunity]:
        actor = await _actor(repository, identity)
        interest = await repository.interest(interest_id, for_update=True)
        if interest is None:
            raise NotFound("interest", interest_id)
        opportunity = await _load(repository, interest.opportunity_id)
        if not (actor.is_operator or await _promotes(repository, actor, opportunity)):
            raise Forbidden(MAY_NOT_ANSWER)
        return interest, opportunity

    # The catalogue

    def programmes(self, country: str | None, kind: str | None) -> list[SupportProgramme]:
        return self.catalogue.find(country, kind)

    # What the service learns from the members and projects services

    async def remember_member(
        self, profile: MemberProfile, as_of: datetime, uow: OpportunitiesUnitOfWork
    ) -> None:
        facts = MemberFacts(
            member_id=profile.member_id,
            kind=profile.kind,
            display_name=profile.display_name,
            country_of_residence=profile.country_of_residence,
            languages=list(profile.languages),
            managers=list(dict.fromkeys(profile.managers)),
        )
        await uow.repository.remember_member(facts, as_of)

    async def forget_member(self, member_id: str, uow: OpportunitiesUnitOfWork) -> None:
        """The member's interests and card go; what they promoted closes `withdrawn`, promoted by the
        erased marker. The consumer commits, with the inbox record of the event."""
        repository = uow.repository
        for opportunity_id in await repository.forget_member(member_id):
            opportunity = await _load(repository, opportunity_id)
            if opportunity.status != CLOSED:
                await _close(uow, opportunity, "withdrawn", self.clock())

    async def remember_territory(
        self, territory_id: str, name: str, country: str, parent_id: str | None, uow: OpportunitiesUnitOfWork
    ) -> None:
        await uow.repository.remember_territory(territory_id, name, country, parent_id)

    async def name_manager(
        self, territory_id: str, sub: str, role: str, uow: OpportunitiesUnitOfWork
    ) -> None:
        await uow.repository.name_manager(territory_id, sub, role)

    async def remove_manager(
        self, territory_id: str, sub: str, role: str, uow: OpportunitiesUnitOfWork
    ) -> None:
        await uow.repository.remove_manager(territory_id, sub, role)


async def _close(
    uow: OpportunitiesUnitOfWork, opportunity: Opportunity, outcome: str, now: datetime
) -> Opportunity:
    """Close it; its pending interests end with it (expired, or closed)."""
    closed = opportunity.closed(outcome)
    await uow.repository.save(closed)
    if opportunity.status == OPEN:  # only what members saw is announced closed
        uow.record(OpportunityClosed(opportunity_id=opportunity.opportunity_id, outcome=outcome))
    ending = EXPIRED if outcome == "expired" else WITHDRAWN
    for interest in await uow.repository.interests(opportunity.opportunity_id, (PENDING,)):
        ended = interest.answered(ending, now)
        await uow.repository.save_interest(ended)
        uow.record(_interest_ended(ended, closed, "expired" if outcome == "expired" else "closed"))
    return closed


def _interest_ended(interest: Interest, opportunity: Opportunity, reason: InterestEnd) -> InterestWithdrawn:
    return InterestWithdrawn(
        interest_id=interest.interest_id,
        opportunity_id=opportunity.opportunity_id,
        member_id=interest.member_id,
        promoter_member_id=opportunity.promoter_member_id,
        reason=reason,
    )


# Who may do what


async def _actor(repository: SqlOpportunitiesRepository, identity: Identity) -> Identity:
    """An erased identity's token, valid until it expires, acts on nothing."""
    if await repository.was_erased(identity.sub):
        raise Forbidden(ERASED_IDENTITY)
    return identity


async def _load(
    repository: SqlOpportunitiesRepository, opportunity_id: str, *, for_update: bool = False
) -> Opportunity:
    opportunity = await repository.opportunity(opportunity_id, for_update=for_update)
    if opportunity is None:
        raise NotFound("opportunity", opportunity_id)
    return opportunity


async def _load_for_action(
    repository: SqlOpportunitiesRepository, identity: Identity, opportunity_id: str, *, lock: bool = True
) -> Opportunity:
    """The opportunity, for whoever may act on it; 404 to a member who may not know it exists yet."""
    actor = await _actor(repository, identity)
    opportunity = await _load(repository, opportunity_id, for_update=lock)
    if not await _may_act(repository, actor, opportunity):
        if not opportunity.visible_to_members:
            raise NotFound("opportunity", opportunity_id)
        raise Forbidden(MAY_NOT_ACT)
    return opportunity


async def _visibility(repository: SqlOpportunitiesRepository, identity: Identity) -> Visibility | None:
    """What the reader sees besides approved opportunities: everything (an operator), nothing (an
    erased identity), else what they promote or act for and what is in the territories they manage."""
    if await repository.was_erased(identity.sub):
        return Visibility([], [])
    if identity.is_operator:
        return None
    promoters = [identity.sub, *await repository.members_managed_by(identity.sub)]
    return Visibility(promoters, await repository.territories_managed_by(identity.sub))


async def _promotes(
    repository: SqlOpportunitiesRepository, actor: Identity, opportunity: Opportunity
) -> bool:
    """The promoter, or whoever acts for the promoting member (an association's, a local actor's managers)."""
    promoter_id = opportunity.promoter_member_id
    if promoter_id == ERASED_OWNER:
        return False
    if actor.sub == promoter_id:
        return True
    promoter = await repository.member(promoter_id)
    return promoter is not None and promoter.may_act_for(actor.sub)


async def _reviews(repository: SqlOpportunitiesRepository, actor: Identity, opportunity: Opportunity) -> bool:
    """An operator, or a manager of the territory or of one above it; never for their own opportunity."""
    if await _promotes(repository, actor, opportunity):
        return actor.is_operator
    if actor.is_operator:
        return True
    return await repository.manages_any(actor.sub, await repository.lineage(opportunity.territory_id))


async def _may_act(repository: SqlOpportunitiesRepository, actor: Identity, opportunity: Opportunity) -> bool:
    return await _promotes(repository, actor, opportunity) or await _reviews(repository, actor, opportunity)
