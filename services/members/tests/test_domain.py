"""Who a member is and who may act for them."""

import pytest
from members.domain import DomainError, register

PROFILE = {
    "display_name": "Fatima",
    "email": "f@example.org",
    "locale": "fr",
    "country_of_residence": "BE",
    "time_zone": "Europe/Brussels",
}


def test_a_person_is_their_own_identity_and_has_no_managers() -> None:
    member = register("fatima", {"kind": "person", **PROFILE})
    assert member.member_id == "fatima" and member.managers == []
    assert member.may_be_managed_by("fatima") and not member.may_be_managed_by("youssef")


def test_an_association_gets_a_new_id_and_is_managed_by_its_registrant_and_named_managers() -> None:
    member = register("amina", {"kind": "association", **PROFILE, "managers": ["khadija", "amina"]})
    assert member.member_id not in ("amina", "khadija")
    assert member.managers == ["amina", "khadija"]
    assert member.may_be_managed_by("khadija") and not member.may_be_managed_by(member.member_id)


def test_a_person_cannot_be_given_managers_later() -> None:
    member = register("fatima", {"kind": "person", **PROFILE})
    with pytest.raises(DomainError, match="no managers"):
        member.updated({"managers": ["someone"]})
    with pytest.raises(DomainError, match="kind cannot change"):
        member.updated({"kind": "association"})
