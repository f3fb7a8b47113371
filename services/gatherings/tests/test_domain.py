"""What a gathering is and who may change it."""

from datetime import UTC, datetime

import pytest
from gatherings.commands import ChangeGathering, CreateGathering
from gatherings.domain import create
from passerelle.errors import RuleBroken
from pydantic import ValidationError

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_a_new_gathering_belongs_to_the_member_who_asked_for_it() -> None:
    gathering = create("fatima", CreateGathering(title="  Tafraout  "), owned=0, limit=10, now=NOW)
    assert (gathering.owner_member_id, gathering.title, gathering.created_at) == ("fatima", "Tafraout", NOW)
    assert gathering.may_be_changed_by("fatima") and not gathering.may_be_changed_by("youssef")


def test_a_member_cannot_have_more_than_the_limit() -> None:
    with pytest.raises(RuleBroken, match="at most 10"):
        create("fatima", CreateGathering(title="Tafraout"), owned=10, limit=10, now=NOW)


def test_only_the_fields_sent_change_and_a_blank_title_never_reaches_the_domain() -> None:
    gathering = create("fatima", CreateGathering(title="Tafraout"), owned=0, limit=10, now=NOW)
    assert gathering.changed(ChangeGathering()) == gathering
    assert gathering.changed(ChangeGathering(title="Kayes")).title == "Kayes"
    with pytest.raises(ValidationError, match="title"):
        ChangeGathering(title="   ")
