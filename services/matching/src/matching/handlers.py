"""Use cases of the matching service: keep the read models, propose matches, withdraw them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from passerelle.contracts import (
    CloudEvent,
    MatchProposed,
    MatchWithdrawn,
    MemberProfile,
    ProjectPublished,
    SkillOffered,
    SkillOfferUpdated,
)
from passerelle.persistence.database import Database, UnitOfWork
from passerelle.runtime.auth import Identity
from passerelle.runtime.problems import Problem, forbidden

from .config import MatchingSettings
from .domain import MemberFacts, Offer, OpenNeed, fit
from .orm import MatchRow
from .repository import MatchingRepository

# Erasure is final: a late profile event must not bring the member back.
_FOREVER = datetime(9999, 1, 1, tzinfo=UTC)


class MatchingHandlers:
    def __init__(self, database: Database, settings: MatchingSettings) -> None:
        self.database = database
        self.settings = settings

    async def remember_member(self, event: CloudEvent[MemberProfile], uow: UnitOfWork) -> None:
        data = event.data
        values = {
            "languages": list(data.languages),
            "managers": list(data.managers),
            "attachments": [a.model_dump() for a in data.attachments],
        }
        await MatchingRepository(uow.session).upsert_member(data.member_id, values, event.time)

    async def erase_member(self, member_id: str, uow: UnitOfWork) -> None:
        repository = MatchingRepository(uow.session)
        await repository.upsert_member(
            member_id, {"languages": [], "attachments": [], "managers": [], "erased": True}, as_of=_FOREVER
        )
        await repository.withdraw_offers(member_id=member_id)
        self._withdrawn(uow, await repository.withdraw_matches(member_id=member_id), "member_erased")

    async def offer_skill(self, event: CloudEvent[SkillOffered], uow: UnitOfWork) -> None:
        data = event.data
        repository = MatchingRepository(uow.session)
        if await repository.is_erased(data.member_id):
            return
        offer = Offer(
            data.offer_id, data.member_id, data.skill, data.level, list(data.modes), list(data.languages)
        )
        if not await repository.add_offer(offer):
            return
        member = await repository.member(offer.member_id)
        for need in await repository.open_needs_with_skill(offer.skill):
            await self._propose(uow, repository, need, offer, member)

    async def update_offer(self, event: CloudEvent[SkillOfferUpdated], uow: UnitOfWork) -> None:
        """Matches the changed offer no longer fits are withdrawn; needs it now fits get proposals."""
        data = event.data
        repository = MatchingRepository(uow.session)
        if await repository.is_erased(data.member_id):
            return
        offer = Offer(
            data.offer_id, data.member_id, data.skill, data.level, list(data.modes), list(data.languages)
        )
        if not await repository.replace_offer(offer):
            return
        member = await repository.member(offer.member_id)
        needs = await repository.open_needs_with_skill(offer.skill)
        fitting = set()
        for need in needs:
            found = fit(need, offer, member)
            if found and found.score >= self.settings.min_score:
                fitting.add(need.need_id)
        stale = [
            m for m in await repository.live_matches(offer_id=offer.offer_id) if m.need_id not in fitting
        ]
        for match in stale:
            match.status = "withdrawn"
        self._withdrawn(uow, stale, "offer_changed")
        for need in needs:
            if need.need_id in fitting:
                await self._propose(uow, repository, need, offer, member)

    async def withdraw_offer(self, offer_id: str, uow: UnitOfWork) -> None:
        repository = MatchingRepository(uow.session)
        await repository.withdraw_offers(offer_id=offer_id)
        self._withdrawn(uow, await repository.withdraw_matches(offer_id=offer_id), "offer_withdrawn")

    async def publish_project(self, event: CloudEvent[ProjectPublished], uow: UnitOfWork) -> None:
        data = event.data
        repository = MatchingRepository(uow.session)
        await repository.add_needs(
            [
                {
                    "need_id": need.need_id,
                    "project_id": data.project_id,
                    "territory_id": data.territory_id,
                    "owner_member_id": data.owner_member_id,
                    "skill": need.skill,
                    "min_level": need.min_level,
                    "mode": need.mode,
                    "count": need.count,
                    "project_title": data.title,
                    "project_languages": list(data.languages),
                }
                for need in data.needs
            ]
        )
        for need in await repository.needs_of(data.project_id):
            ranked = []
            for offer in await repository.live_offers_with_skill(need.skill):
                found = fit(need, offer, await repository.member(offer.member_id))
                if found and found.score >= self.settings.min_score:
                    ranked.append((found.score, offer))
            ranked.sort(key=lambda pair: -pair[0])
            for _, offer in ranked[: self.settings.top_k]:
                await self._propose(uow, repository, need, offer, await repository.member(offer.member_id))

    async def close_project(self, project_id: str, uow: UnitOfWork) -> None:
        repository = MatchingRepository(uow.session)
        await repository.close_project(project_id)
        self._withdrawn(uow, await repository.withdraw_matches(project_id=project_id), "project_closed")

    async def matches(
        self, identity: Identity, member_id: str | None, project_id: str | None
    ) -> list[MatchRow]:
        if bool(member_id) == bool(project_id):
            raise Problem(422, "Unprocessable Content", "give exactly one of member_id or project_id")
        async with self.database.unit_of_work() as uow:
            repository = MatchingRepository(uow.session)
            if not identity.is_operator:
                subject = member_id or await repository.project_owner(project_id or "")
                allowed = subject is not None and (
                    identity.sub == subject or identity.sub in await repository.managers_of(subject)
                )
                if not allowed:
                    raise forbidden("you may see only your own matches, or your projects' matches")
            return await repository.matches(member_id=member_id, project_id=project_id)

    async def _propose(
        self,
        uow: UnitOfWork,
        repository: MatchingRepository,
        need: OpenNeed,
        offer: Offer,
        member: MemberFacts | None,
    ) -> None:
        found = fit(need, offer, member)
        if found is None or found.score < self.settings.min_score:
            return
        row = {
            "match_id": str(uuid.uuid4()),
            "project_id": need.project_id,
            "need_id": need.need_id,
            "offer_id": offer.offer_id,
            "member_id": offer.member_id,
            "score": found.score,
            "reasons": found.reasons,
        }
        if await repository.add_match(row):
            uow.record(MatchProposed(**row))

    @staticmethod
    def _withdrawn(uow: UnitOfWork, rows: list[MatchRow], reason: str) -> None:
        for row in rows:
            uow.record(
                MatchWithdrawn(
                    match_id=row.match_id,
                    project_id=row.project_id,
                    need_id=row.need_id,
                    member_id=row.member_id,
                    reason=reason,
                )
            )
