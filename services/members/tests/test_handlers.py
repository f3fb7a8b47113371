"""The members use cases in milliseconds: an in-memory repository and unit of work, no NATS nor
PostgreSQL (the integration tests prove delivery and persistence)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from typing import Any

import pytest
from members.commands import OfferSkill, RegisterMember, UpdateMember, UpdateOffer
from members.domain import Member, SkillOffer
from members.handlers import MembersHandlers
from passerelle.contracts import (
    MemberErased,
    MemberProfileUpdated,
    MemberRegistered,
    SkillOffered,
    SkillOfferUpdated,
    SkillOfferWithdrawn,
)
from passerelle.errors import Conflict, Forbidden, IllegalTransition, InvalidField
from passerelle.identity import Identity
from passerelle.taxonomy import load_taxonomy
from passerelle.unit_of_work import InMemoryUnitOfWork

TAXONOMY = load_taxonomy()
PROFILE = {
    "display_name": "Fatima",
    "email": "fatima@example.org",
    "locale": "fr",
    "country_of_residence": "BE",
    "time_zone": "Europe/Brussels",
    "attachments": [{"territory_id": "tafraout", "bond": "origin"}],
}
OFFER = OfferSkill(skill="health.nursing", level=4, modes=["remote"])
FATIMA = Identity("fatima", frozenset({"member"}))
AMINA = Identity("amina", frozenset({"member"}))
OPERATOR = Identity("op", frozenset({"operator"}))


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

    async def add_offer(self, offer: SkillOffer, now: datetime) -> None:
        assert offer.offer_id not in self.offers
        self.offers[offer.offer_id] = offer

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


@pytest.fixture
def uow() -> InMemoryUnitOfWork[FakeMembers]:
    return InMemoryUnitOfWork(FakeMembers())


@pytest.fixture
def handlers(uow: InMemoryUnitOfWork[FakeMembers]) -> MembersHandlers:
    return MembersHandlers(lambda: uow, TAXONOMY)


def person(**extra: object) -> RegisterMember:
    return RegisterMember.model_validate({"kind": "person", **PROFILE, **extra})


def association(name: str, **extra: object) -> RegisterMember:
    return RegisterMember.model_validate({"kind": "association", **PROFILE, "display_name": name, **extra})


async def test_registering_stores_the_member_and_publishes_member_registered_once(
    handlers: MembersHandlers, uow: InMemoryUnitOfWork[FakeMembers]
) -> None:
    member = await handlers.register(FATIMA, person(contact_consent=True))
    assert uow.repository.members["fatima"] == member
    [registered] = uow.published
    assert isinstance(registered, MemberRegistered) and registered.member_id == "fatima"
    assert [action for _, action, _ in uow.repository.history] == ["registered", "contact_consent_given"]
    with pytest.raises(Conflict, match="already registered"):
        await handlers.register(FATIMA, person())
    assert len(uow.published) == 1


async def test_an_erased_identity_registers_nothing_and_is_named_manager_of_nothing(
    handlers: MembersHandlers, uow: InMemoryUnitOfWork[FakeMembers]
) -> None:
    uow.repository.erased.add("khadija")
    with pytest.raises(Conflict, match="erased"):
        await handlers.register(Identity("khadija", frozenset({"member"})), person())
    with pytest.raises(InvalidField, match="erased") as raised:
        await handlers.register(AMINA, association("Tafraout Solidarité", managers=["khadija"]))
    assert raised.value.field == "managers"
    assert uow.published == [] and uow.repository.members == {}


async def test_an_association_is_refused_as_the_manager_of_another(
    handlers: MembersHandlers, uow: InMemoryUnitOfWork[FakeMembers]
) -> None:
    first = await handlers.register(AMINA, association("Tafraout Solidarité"))
    with pytest.raises(InvalidField, match="not a person"):
        await handlers.register(FATIMA, association("Kayes Avenir", managers=[first.member_id]))
    assert len(uow.published) == 1


async def test_updating_a_profile_publishes_its_snapshot_and_an_unchanged_one_publishes_nothing(
    handlers: MembersHandlers, uow: InMemoryUnitOfWork[FakeMembers]
) -> None:
    await handlers.register(FATIMA, person())
    updated = await handlers.update(FATIMA, "fatima", UpdateMember(display_name="Fatima Z."))
    assert updated.display_name == "Fatima Z."
    assert isinstance(uow.published[-1], MemberProfileUpdated)
    assert uow.published[-1].display_name == "Fatima Z."
    await handlers.update(FATIMA, "fatima", UpdateMember(display_name="Fatima Z."))
    assert len(uow.published) == 2
    with pytest.raises(Forbidden):
        await handlers.update(AMINA, "fatima", UpdateMember(display_name="x"))


async def test_an_offer_is_made_updated_and_withdrawn_each_with_its_event(
    handlers: MembersHandlers, uow: InMemoryUnitOfWork[FakeMembers]
) -> None:
    await handlers.register(FATIMA, person())
    offer = await handlers.offer_skill(FATIMA, "fatima", OFFER)
    updated = await handlers.update_offer(FATIMA, "fatima", offer.offer_id, UpdateOffer(level=5))
    withdrawn = await handlers.withdraw_offer(FATIMA, "fatima", offer.offer_id)
    again = await handlers.withdraw_offer(FATIMA, "fatima", offer.offer_id)
    assert updated.level == 5 and withdrawn.withdrawn and again.withdrawn
    assert [type(event) for event in uow.published[1:]] == [
        SkillOffered,
        SkillOfferUpdated,
        SkillOfferWithdrawn,
    ]
    with pytest.raises(IllegalTransition, match="withdrawn"):
        await handlers.update_offer(FATIMA, "fatima", offer.offer_id, UpdateOffer(level=3))
    with pytest.raises(Forbidden):
        await handlers.offer_skill(AMINA, "fatima", OFFER)


async def test_erasing_a_manager_removes_it_from_its_associations_and_publishes_member_erased_last(
    handlers: MembersHandlers, uow: InMemoryUnitOfWork[FakeMembers]
) -> None:
    await handlers.register(FATIMA, person())
    await handlers.offer_skill(FATIMA, "fatima", OFFER)
    managed = await handlers.register(AMINA, association("Tafraout Solidarité", managers=["fatima"]))
    published = len(uow.published)

    await handlers.erase(FATIMA, "fatima")

    repository = uow.repository
    assert "fatima" not in repository.members and repository.offers == {}
    assert repository.members[managed.member_id].managers == ["amina"]
    left, erased = uow.published[published:]
    assert isinstance(left, MemberProfileUpdated) and left.managers == ["amina"]
    assert isinstance(erased, MemberErased) and erased.member_id == "fatima"
    await handlers.erase(FATIMA, "fatima")
    assert len(uow.published) == published + 2, "erasing twice is harmless"
    with pytest.raises(Forbidden):
        await handlers.erase(FATIMA, managed.member_id)
