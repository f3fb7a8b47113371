"""Use cases of the members service: one unit of work each, events recorded in the outbox."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from passerelle.contracts import (
    MemberErased,
    MemberProfileUpdated,
    MemberRegistered,
    SkillOffered,
    SkillOfferUpdated,
    SkillOfferWithdrawn,
)
from passerelle.errors import Conflict, Forbidden, InvalidField, NotFound
from passerelle.identity import Identity, grantee_fault
from passerelle.taxonomy import Taxonomy
from passerelle.unit_of_work import UnitOfWork

from . import domain
from .commands import OfferSkill, RegisterMember, UpdateMember, UpdateOffer
from .domain import MANAGER_ROLES, PERSON, VISIBILITIES, Member, SkillOffer, View
from .repository import MemberSearch, MembersRepository

# What makes the unit of work of one use case, whose `repository` holds the members and their offers.
Units = Callable[[], UnitOfWork[MembersRepository]]
FORBIDDEN_ACTION = "you may act only on your own profile and offers, or for members you manage"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Seen:
    """A member as the caller may see them."""

    member: Member
    view: View
    live_offers: list[SkillOffer]


@dataclass(frozen=True)
class Page:
    items: list[Seen]
    total: int
    limit: int
    offset: int


class MembersHandlers:
    def __init__(self, units: Units, taxonomy: Taxonomy) -> None:
        self.units = units
        self.taxonomy = taxonomy

    async def register(self, identity: Identity, registration: RegisterMember) -> Member:
        now = _now()
        member = domain.register(identity.sub, registration, self.taxonomy, now)
        async with self.units() as uow:
            members = uow.repository
            if await members.was_erased(identity.sub):
                raise Conflict(
                    f"member {identity.sub} was erased at its own request; "
                    "this identity cannot register again, nor register others"
                )
            await self._check_managers(members, member.managers)
            if await members.get(member.member_id):
                raise Conflict(f"member {member.member_id} is already registered")
            await members.save(member, now)
            await members.log(member.member_id, now, "registered", by=identity.sub)
            if member.contact_consent:
                await members.log(member.member_id, now, "contact_consent_given", by=identity.sub)
            uow.record(MemberRegistered(**member.profile()))
            await uow.commit()
        return member

    async def profile(self, identity: Identity, member_id: str) -> Seen:
        async with self.units() as uow:
            members = uow.repository
            member = await self._load(members, member_id)
            view = member.view_for(identity.sub, identity.roles)
            if view is None:
                raise Forbidden(
                    "this profile is visible only to the member, those who manage it and operators"
                )
            offers = (await members.live_offers_of([member_id])).get(member_id, [])
        return Seen(member, view, offers)

    async def update(self, identity: Identity, member_id: str, update: UpdateMember) -> Member:
        now = _now()
        async with self.units() as uow:
            members = uow.repository
            before = await self._load_for_action(members, identity, member_id)
            member = before.updated(update, self.taxonomy, now)
            changed = before.changed_fields(member)
            if not changed:
                return member
            await self._check_managers(members, set(member.managers) - set(before.managers))
            await members.save(member, now)
            await members.log(member_id, now, "profile_updated", by=identity.sub, fields=changed)
            if member.contact_consent != before.contact_consent:
                action = "contact_consent_given" if member.contact_consent else "contact_consent_withdrawn"
                await members.log(member_id, now, action, by=identity.sub)
            uow.record(MemberProfileUpdated(**member.profile()))
            await uow.commit()
        return member

    async def offer_skill(self, identity: Identity, member_id: str, wanted: OfferSkill) -> SkillOffer:
        now = _now()
        async with self.units() as uow:
            members = uow.repository
            member = await self._load_for_action(members, identity, member_id)
            offer = domain.offer_skill(member, wanted, self.taxonomy)
            await members.add_offer(offer, now)
            await members.log(member_id, now, "skill_offered", offer_id=offer.offer_id, skill=offer.skill)
            uow.record(SkillOffered(**offer.event_fields()))
            await uow.commit()
        return offer

    async def update_offer(
        self, identity: Identity, member_id: str, offer_id: str, update: UpdateOffer
    ) -> SkillOffer:
        now = _now()
        async with self.units() as uow:
            members = uow.repository
            await self._load_for_action(members, identity, member_id)
            before = await self._load_offer(members, member_id, offer_id)
            offer = before.updated(update, self.taxonomy)
            if offer == before:
                return offer
            await members.save_offer(offer, now)
            changed = before.changed_fields(offer)
            await members.log(member_id, now, "skill_offer_updated", offer_id=offer_id, fields=changed)
            uow.record(SkillOfferUpdated(**offer.event_fields()))
            await uow.commit()
        return offer

    async def withdraw_offer(self, identity: Identity, member_id: str, offer_id: str) -> SkillOffer:
        now = _now()
        async with self.units() as uow:
            members = uow.repository
            await self._load_for_action(members, identity, member_id)
            offer = await self._load_offer(members, member_id, offer_id)
            if not offer.withdrawn:
                offer = offer.withdrawn_now()
                await members.save_offer(offer, now)
                await members.log(member_id, now, "skill_offer_withdrawn", offer_id=offer_id)
                uow.record(SkillOfferWithdrawn(member_id=member_id, offer_id=offer_id))
                await uow.commit()
        return offer

    async def offers(self, identity: Identity, member_id: str) -> list[SkillOffer]:
        async with self.units() as uow:
            members = uow.repository
            member = await self._load(members, member_id)
            view = member.view_for(identity.sub, identity.roles)
            if view is None:
                raise Forbidden("you may list only your own offers, or those of members you may see")
            offers = await members.offers_of(member_id)
        return offers if view is View.FULL else [offer for offer in offers if not offer.withdrawn]

    async def search(
        self, identity: Identity, wanted: MemberSearch, skill: str | None, limit: int, offset: int
    ) -> Page:
        """Members matching the filters, among those whose visibility lets the caller see them.

        A skill filter also finds the narrower skills: who offers solar panel installation is found
        when looking for solar energy.
        """
        if skill is not None:
            if skill not in self.taxonomy:
                raise InvalidField("skill", f"unknown skill code {skill!r}: find codes with GET /skills?q=")
            wanted = MemberSearch(**{**vars(wanted), "skills": self.taxonomy.descendants(skill)})
        visibilities: tuple[str, ...] | None
        if identity.is_operator:
            visibilities = None
        elif MANAGER_ROLES.intersection(identity.roles):
            visibilities = VISIBILITIES[:2]
        else:
            visibilities = VISIBILITIES[:1]
        async with self.units() as uow:
            members = uow.repository
            found, total = await members.search(wanted, visibilities, limit, offset)
            offers = await members.live_offers_of([member.member_id for member in found])
        items = []
        for member in found:
            view = member.view_for(identity.sub, identity.roles) or View.CARD
            items.append(Seen(member, view, offers.get(member.member_id, [])))
        return Page(items, total, limit, offset)

    async def export(self, identity: Identity, member_id: str) -> dict[str, Any]:
        async with self.units() as uow:
            members = uow.repository
            await self._load_for_action(members, identity, member_id, for_update=False)
            held = await members.export(member_id)
        consents = [
            {"kind": "contact", "given": entry["action"] == "contact_consent_given", "at": entry["at"]}
            for entry in held["history"]
            if entry["action"].startswith("contact_consent_")
        ]
        return {**held, "consents": consents, "exported_at": _now()}

    async def erase(self, identity: Identity, member_id: str) -> None:
        """Delete the member's personal data and tell every service; erasing twice is harmless."""
        async with self.units() as uow:
            members = uow.repository
            member = await members.get(member_id, for_update=True)
            if member is None:
                if await members.was_erased(member_id) and (
                    identity.is_operator or identity.sub == member_id
                ):
                    return
                raise NotFound("member", member_id)
            if not (identity.is_operator or member.may_be_managed_by(identity.sub)):
                raise Forbidden(FORBIDDEN_ACTION)
            now = _now()
            for managed in await members.managed_by(member_id):
                left = managed.without_manager(member_id)
                await members.save(left, now)
                uow.record(MemberProfileUpdated(**left.profile()))
            await members.erase(member_id, now)
            uow.record(MemberErased(member_id=member_id))
            await uow.commit()

    @staticmethod
    async def _check_managers(members: MembersRepository, managers: Collection[str]) -> None:
        """Managers are people who may sign in: never an erased identity, whose token would act for
        the association again, nor an association or local actor, whose profile would lock after the
        one it manages while that one's update locks it first (two associations naming each other
        would deadlock). A manager's own profile is locked, so that their erasure, which locks it
        first, is either seen here or sees the association."""
        for manager in sorted(managers):
            known = await members.get(manager)  # unlocked: a member's kind never changes
            if known is not None and known.kind != PERSON:
                raise InvalidField("managers", f"{manager} is not a person: managers are people who sign in")
            await members.get(manager, for_update=True)
            fault = await grantee_fault(manager, members.was_erased)
            if fault is not None:
                raise InvalidField("managers", f"{manager!r} cannot manage a member: {fault}")

    @staticmethod
    async def _load(members: MembersRepository, member_id: str) -> Member:
        member = await members.get(member_id)
        if member is None:
            raise NotFound("member", member_id)
        return member

    async def _load_for_action(
        self, members: MembersRepository, identity: Identity, member_id: str, *, for_update: bool = True
    ) -> Member:
        """The member, locked until the commit unless only read: concurrent changes of one member
        and its offers then apply one after the other, each event carrying the state it committed."""
        member = await members.get(member_id, for_update=for_update)
        if member is None:
            raise NotFound("member", member_id)
        if not (identity.is_operator or member.may_be_managed_by(identity.sub)):
            raise Forbidden(FORBIDDEN_ACTION)
        return member

    @staticmethod
    async def _load_offer(members: MembersRepository, member_id: str, offer_id: str) -> SkillOffer:
        offer = await members.get_offer(member_id, offer_id)
        if offer is None:
            raise NotFound("offer", offer_id)
        return offer
