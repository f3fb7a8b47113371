"""What a idea is and who may change it."""

from datetime import UTC, datetime

import pytest
from ideas.commands import ChangeIdea, CreateIdea
from ideas.domain import create
from passerelle.errors import RuleBroken
from pydantic import ValidationError

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_a_new_idea_belongs_to_the_member_who_asked_for_it() -> None:
    idea = create("fatima", CreateIdea(title="  Tafraout  "), owned=0, limit=10, now=NOW)
    assert (idea.owner_member_id, idea.title, idea.created_at) == ("fatima", "Tafraout", NOW)
    assert idea.may_be_changed_by("fatima") and not idea.may_be_changed_by("youssef")


def test_a_member_cannot_have_more_than_the_limit() -> None:
    with pytest.raises(RuleBroken, match="at most 10"):
        create("fatima", CreateIdea(title="Tafraout"), owned=10, limit=10, now=NOW)


def test_only_the_fields_sent_change_and_a_blank_title_never_reaches_the_domain() -> None:
    idea = create("fatima", CreateIdea(title="Tafraout"), owned=0, limit=10, now=NOW)
    assert idea.changed(ChangeIdea()) == idea
    assert idea.changed(ChangeIdea(title="Kayes")).title == "Kayes"
    with pytest.raises(ValidationError, match="title"):
        ChangeIdea(title="   ")
