"""Who a member is, who may see and act for them, and what they may offer."""

from datetime import UTC, date, datetime

import pytest
from members.commands import OfferSkill, RegisterMember, UpdateMember, UpdateOffer
from members.domain import View, offer_skill, register
from passerelle.errors import IllegalTransition, InvalidField
from passerelle.taxonomy import load_taxonomy
from pydantic import ValidationError

TAXONOMY = load_taxonomy()
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
PROFILE = {
    "display_name": "Fatima",
    "email": "f@example.org",
    "locale": "fr",
    "country_of_residence": "BE",
    "time_zone": "Europe/Brussels",
}


def test_a_person_is_their_own_identity_and_has_no_managers() -> None:
    member = register("fatima", RegisterMember(**{"kind": "person", **PROFILE}), TAXONOMY, NOW)
    assert member.member_id == "fatima" and member.managers == []
    assert member.may_be_managed_by("fatima") and not member.may_be_managed_by("youssef")


def test_an_association_gets_a_new_id_and_is_managed_by_its_registrant_and_named_managers() -> None:
    member = register(
        "amina",
        RegisterMember(**{"kind": "association", **PROFILE, "managers": ["khadija", "amina"]}),
        TAXONOMY,
        NOW,
    )
    assert member.member_id not in ("amina", "khadija")
    assert member.managers == ["amina", "khadija"]
    assert member.may_be_managed_by("khadija") and not member.may_be_managed_by(member.member_id)


def test_a_person_cannot_be_given_managers_nor_change_kind() -> None:
    member = register("fatima", RegisterMember(**{"kind": "person", **PROFILE}), TAXONOMY, NOW)
    with pytest.raises(InvalidField, match="no managers") as raised:
        member.updated(UpdateMember(**{"managers": ["someone"]}), TAXONOMY, NOW)
    assert raised.value.field == "managers"
    # A kind change cannot even be asked: the update command has no kind (a 422 at the API).
    with pytest.raises(ValidationError, match="kind"):
        member.updated(UpdateMember(**{"kind": "association"}), TAXONOMY, NOW)


def test_an_unknown_sector_or_a_territory_attached_twice_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidField, match="unknown sector") as raised:
        register(
            "fatima",
            RegisterMember(**{"kind": "person", **PROFILE, "sectors": ["health", "astrology"]}),
            TAXONOMY,
            NOW,
        )
    assert raised.value.field == "sectors"
    twice = [{"territory_id": "t1", "bond": "origin"}, {"territory_id": "t1", "bond": "heart"}]
    with pytest.raises(InvalidField) as raised:
        register(
            "fatima", RegisterMember(**{"kind": "person", **PROFILE, "attachments": twice}), TAXONOMY, NOW
        )
    assert raised.value.field == "attachments"


def test_consent_to_be_contacted_is_timestamped_when_given_and_when_withdrawn() -> None:
    member = register("fatima", RegisterMember(**{"kind": "person", **PROFILE}), TAXONOMY, NOW)
    assert member.contact_consent_at is None
    later = datetime(2026, 12, 1, tzinfo=UTC)
    consenting = member.updated(UpdateMember(**{"contact_consent": True}), TAXONOMY, later)
    assert (consenting.contact_consent, consenting.contact_consent_at) == (True, later)
    unchanged = consenting.updated(
        UpdateMember(**{"display_name": "Fatima Z."}), TAXONOMY, datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert unchanged.contact_consent_at == later


@pytest.mark.parametrize(
    ("visibility", "roles", "expected"),
    [
        ("managers", {"member"}, None),
        ("managers", {"territory_manager"}, View.CARD),
        ("managers", {"community_manager"}, View.CARD),
        ("public", {"member"}, View.CARD),
        ("private", {"community_manager"}, None),
        ("private", {"operator"}, View.FULL),
    ],
)
def test_what_others_see_of_a_member_follows_the_members_visibility(
    visibility: str, roles: set[str], expected: View | None
) -> None:
    member = register(
        "fatima", RegisterMember(**{"kind": "person", **PROFILE, "visibility": visibility}), TAXONOMY, NOW
    )
    assert member.view_for("someone-else", roles) == expected
    assert member.view_for("fatima", {"member"}) == View.FULL


def test_an_offer_must_name_a_known_skill_and_a_coherent_availability_window() -> None:
    member = register("fatima", RegisterMember(**{"kind": "person", **PROFILE}), TAXONOMY, NOW)
    offer = offer_skill(
        member, OfferSkill(**{"skill": "health.nurse_training", "level": 4, "modes": ["remote"]}), TAXONOMY
    )
    assert offer.member_id == "fatima"
    with pytest.raises(InvalidField, match="unknown skill code") as raised:
        offer_skill(
            member, OfferSkill(**{"skill": "health.astrology", "level": 4, "modes": ["remote"]}), TAXONOMY
        )
    assert raised.value.field == "skill"
    window = {"available_from": date(2027, 3, 1), "available_until": date(2027, 2, 1)}
    with pytest.raises(InvalidField, match="before available_from"):
        offer_skill(
            member,
            OfferSkill(**{"skill": "health.nursing", "level": 3, "modes": ["remote"], **window}),
            TAXONOMY,
        )


def test_a_withdrawn_offer_cannot_be_changed() -> None:
    member = register("fatima", RegisterMember(**{"kind": "person", **PROFILE}), TAXONOMY, NOW)
    offer = offer_skill(
        member, OfferSkill(**{"skill": "health.nursing", "level": 4, "modes": ["remote"]}), TAXONOMY
    )
    assert offer.updated(UpdateOffer(**{"level": 5}), TAXONOMY).level == 5
    with pytest.raises(IllegalTransition, match="withdrawn"):
        offer.withdrawn_now().updated(UpdateOffer(**{"level": 5}), TAXONOMY)
