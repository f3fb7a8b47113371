"""An in-memory members repository: what the use cases read and write, without PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from typing import Any

from members.domain import Member, SkillOffer


class FakeMembers:
    def __init__(self) -> None:
        self.members: dict[str, Member] = {}
        self.offers: dict[str, SkillOffer] = {}
        self.erased: set[str] = set()
        self.history: list[tuple[str, str, dict[str, Any]]] = []

    async def get(self, member_id: str, *, for_update: bool = False) -> Member | None:
        return self.members.get(member_id)

    async def was_erased(self, member_id: str) -> bool:
        return member_id in self.erased

    async def save(self, member: Member, now: datetime) -> None:
        self.members[member.member_id] = member

    async def get_offer(self, member_id: str, offer_id: str) -> SkillOffer | None:
        offer = self.offers.get(offer_id)
        return offer if offer is not None and offer.member_id == member_id else None

    async def save_offer(self, offer: SkillOffer, now: datetime) -> None:
        self.offers[offer.offer_id] = offer

    async def offers_of(self, member_id: str) -> list[SkillOffer]:
        return [offer for offer in self.offers.values() if offer.member_id == member_id]

    async def log(self, member_id: str, at: datetime, action: str, **details: Any) -> None:
        self.history.append((member_id, action, details))

    async def live_offers_of(self, member_ids: Collection[str]) -> dict[str, list[SkillOffer]]:
        found: dict[str, list[SkillOffer]] = defaultdict(list)
        for offer in self.offers.values():
            if offer.member_id in member_ids and not offer.withdrawn:
                found[offer.member_id].append(offer)
        return found

    async def managed_by(self, sub: str) -> list[Member]:
        return sorted(
            (member for member in self.members.values() if sub in member.managers),
            key=lambda member: member.member_id,
        )

    async def erase(self, member_id: str, now: datetime) -> None:
        del self.members[member_id]
        self.offers = {key: offer for key, offer in self.offers.items() if offer.member_id != member_id}
        self.history = [entry for entry in self.history if entry[0] != member_id]
        self.erased.add(member_id)
