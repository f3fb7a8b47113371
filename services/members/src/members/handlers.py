"""Use cases of the members service: one unit of work each, events recorded in the outbox."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from passerelle.contracts import MemberProfileUpdated, MemberRegistered, SkillOffered, SkillOfferWithdrawn
from passerelle.persistence.database import Database
from passerelle.runtime.auth import Identity
from passerelle.runtime.problems import Problem, conflict, forbidden, not_found

from . import domain
from .domain import DomainError, Member, SkillOffer
from .repository import MembersRepository

READERS = ("operator", "community_manager")


def _may_act(identity: Identity, member: Member) -> bool:
    return identity.is_operator or member.may_be_managed_by(identity.sub)


def _may_read(identity: Identity, member: Member) -> bool:
    return identity.has_any(*READERS) or member.may_be_managed_by(identity.sub)


def _rule_broken(error: DomainError) -> Problem:
    return Problem(422, "Unprocessable Content", str(error))


class MembersHandlers:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def register(self, identity: Identity, fields: dict[str, Any]) -> Member:
        try:
            member = domain.register(identity.sub, fields)
        except DomainError as error:
            raise _rule_broken(error) from error
        async with self.database.unit_of_work() as uow:
            members = MembersRepository(uow.session)
            if await members.get(member.member_id):
                raise conflict(f"member {member.member_id} is already registered")
            await members.save(member)
            uow.record(MemberRegistered(**member.profile()))
            await uow.commit()
        return member

    async def profile(self, identity: Identity, member_id: str) -> Member:
        async with self.database.unit_of_work() as uow:
            member = await self._load(MembersRepository(uow.session), member_id)
        if not _may_read(identity, member):
            raise forbidden("you may read only your own profile, or those of members you manage")
        return member

    async def update(self, identity: Identity, member_id: str, changes: dict[str, Any]) -> Member:
        async with self.database.unit_of_work() as uow:
            members = MembersRepository(uow.session)
            member = await self._load_for_action(members, identity, member_id)
            try:
                member = member.updated(changes)
            except DomainError as error:
                raise _rule_broken(error) from error
            await members.save(member)
            uow.record(MemberProfileUpdated(**member.profile()))
            await uow.commit()
        return member

    async def offer_skill(self, identity: Identity, member_id: str, fields: dict[str, Any]) -> SkillOffer:
        async with self.database.unit_of_work() as uow:
            members = MembersRepository(uow.session)
            member = await self._load_for_action(members, identity, member_id)
            try:
                offer = domain.offer_skill(member, fields)
            except DomainError as error:
                raise _rule_broken(error) from error
            await members.save_offer(offer)
            uow.record(SkillOffered(**{k: v for k, v in asdict(offer).items() if k != "withdrawn"}))
            await uow.commit()
        return offer

    async def withdraw_offer(self, identity: Identity, member_id: str, offer_id: str) -> SkillOffer:
        async with self.database.unit_of_work() as uow:
            members = MembersRepository(uow.session)
            await self._load_for_action(members, identity, member_id)
            offer = await members.get_offer(member_id, offer_id)
            if offer is None:
                raise not_found("offer", offer_id)
            if not offer.withdrawn:
                offer = replace(offer, withdrawn=True)
                await members.save_offer(offer)
                uow.record(SkillOfferWithdrawn(member_id=member_id, offer_id=offer_id))
                await uow.commit()
        return offer

    async def offers(self, identity: Identity, member_id: str) -> list[SkillOffer]:
        async with self.database.unit_of_work() as uow:
            members = MembersRepository(uow.session)
            member = await self._load(members, member_id)
            if not _may_read(identity, member):
                raise forbidden("you may list only your own offers")
            return await members.offers_of(member_id)

    @staticmethod
    async def _load(members: MembersRepository, member_id: str) -> Member:
        member = await members.get(member_id)
        if member is None:
            raise not_found("member", member_id)
        return member

    async def _load_for_action(
        self, members: MembersRepository, identity: Identity, member_id: str
    ) -> Member:
        member = await self._load(members, member_id)
        if not _may_act(identity, member):
            raise forbidden("you may act only on your own profile and offers, or for members you manage")
        return member
