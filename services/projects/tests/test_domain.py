"""Territories nest properly; projects move draft -> published -> closed; pledges add up exactly."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from passerelle.errors import IllegalTransition, InvalidField, RuleBroken
from passerelle.taxonomy import load_taxonomy
from projects.commands import CreateProject, EditProject, RegisterTerritory
from projects.domain import (
    ERASED_KIND,
    MAX_TOTAL,
    MemberFacts,
    Project,
    Territory,
    create_project,
    register_territory,
)

TAXONOMY = load_taxonomy()
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
REGION = Territory("r", "Souss-Massa", "MA", "region")
GOAL = {"goal_amount": "1000.00", "currency": "EUR"}


def test_a_commune_sits_under_a_region_of_the_same_country() -> None:
    commune = register_territory(
        RegisterTerritory(**{"name": "Tafraout", "country": "MA", "level": "commune", "parent_id": "r"}),
        REGION,
    )
    assert commune.parent_id == "r"
    with pytest.raises(InvalidField, match="cannot sit under"):
        register_territory(
            RegisterTerritory(**{"name": "Morocco", "country": "MA", "level": "country", "parent_id": "r"}),
            REGION,
        )
    with pytest.raises(InvalidField, match="same country"):
        register_territory(
            RegisterTerritory(**{"name": "Kayes", "country": "ML", "level": "commune", "parent_id": "r"}),
            REGION,
        )


def project(**changes: Any) -> Project:
    fields = {
        "territory_id": "t",
        "title": "Health post",
        "summary": "Train nurses",
        "sector": "health",
        "needs": [{"skill": "health.nurse_training", "min_level": 3, "mode": "short_mission", "count": 1}],
        **changes,
    }
    return create_project("amina", CreateProject.model_validate(fields), TAXONOMY)


def test_a_complete_draft_is_published_once_and_closed_once() -> None:
    published = project().publish()
    assert published.status == "published"
    assert all(need["need_id"] for need in published.needs)
    with pytest.raises(IllegalTransition, match="only a draft"):
        published.publish()
    closed = published.close("completed")
    assert (closed.status, closed.outcome) == ("closed", "completed")
    with pytest.raises(IllegalTransition, match="only a published project"):
        closed.close("cancelled")
    with pytest.raises(IllegalTransition, match="only a published project"):
        project().close("cancelled")


def test_a_project_without_needs_or_funding_cannot_be_published() -> None:
    with pytest.raises(RuleBroken, match="at least one need or a funding goal"):
        project(needs=[]).publish()
    assert project(needs=[], funding=GOAL).publish().status == "published"


def test_needs_name_known_skills_and_coherent_dates() -> None:
    with pytest.raises(InvalidField) as raised:
        project(needs=[{"skill": "health.astrology", "min_level": 1, "mode": "remote", "count": 1}])
    assert raised.value.field == "needs.0.skill"
    with pytest.raises(InvalidField) as raised:
        project(sector="astrology")
    assert raised.value.field == "sector"
    backwards = {"starts_on": "2027-03-01", "ends_on": "2027-02-01"}
    with pytest.raises(InvalidField, match="before starts_on"):
        project(
            needs=[{"skill": "health.nursing", "min_level": 1, "mode": "remote", "count": 1, **backwards}]
        )


def test_editing_keeps_the_ids_of_needs_sent_back_and_gives_new_ones_an_id() -> None:
    draft = project()
    kept = draft.needs[0]
    added = {"skill": "energy.solar_pv_design", "min_level": 3, "mode": "remote", "count": 1}
    edited = draft.edited(EditProject.model_validate({"needs": [{**kept, "count": 2}, added]}), TAXONOMY, NOW)
    assert edited.needs[0]["need_id"] == kept["need_id"] and edited.needs[0]["count"] == 2
    assert edited.needs[1]["need_id"] not in (None, kept["need_id"])
    with pytest.raises(InvalidField, match="no need"):
        draft.edited(EditProject.model_validate({"needs": [{**added, "need_id": "not-ours"}]}), TAXONOMY, NOW)


def test_a_published_project_keeps_its_territory_and_a_closed_one_does_not_change() -> None:
    published = project().publish()
    assert (
        published.edited(EditProject.model_validate({"title": "Health post, phase 2"}), TAXONOMY, NOW).title
        == "Health post, phase 2"
    )
    with pytest.raises(IllegalTransition, match="stays in its territory"):
        published.edited(EditProject.model_validate({"territory_id": "elsewhere"}), TAXONOMY, NOW)
    with pytest.raises(IllegalTransition, match="closed"):
        published.close("cancelled").edited(EditProject.model_validate({"title": "x"}), TAXONOMY, NOW)


def test_pledges_add_up_in_decimals_and_the_goal_is_reached_once() -> None:
    open_project = project(funding=GOAL).publish()
    first = open_project.pledge(Decimal("999.99"), None, NOW)
    assert (first.project.pledged_total, first.goal_reached_now) == (Decimal("999.99"), False)
    second = first.project.pledge(Decimal("0.01"), "EUR", NOW)
    assert (second.project.pledged_total, second.goal_reached_now) == (Decimal("1000.00"), True)
    third = second.project.pledge(Decimal("50"), None, NOW)
    assert third.goal_reached_now is False and third.project.goal_reached_at == NOW


@pytest.mark.parametrize(
    ("amount", "currency", "error"),
    [
        (Decimal("0"), None, "more than zero"),
        (Decimal("1.005"), None, "cents"),
        (Decimal("5"), "MAD", "EUR, not MAD"),
    ],
)
def test_a_pledge_is_positive_in_cents_and_in_the_projects_currency(
    amount: Decimal, currency: str | None, error: str
) -> None:
    with pytest.raises(InvalidField, match=error):
        project(funding=GOAL).publish().pledge(amount, currency, NOW)


def test_pledges_go_only_to_published_projects_that_ask_for_money() -> None:
    with pytest.raises(IllegalTransition, match="draft"):
        project(funding=GOAL).pledge(Decimal("5"), None, NOW)
    with pytest.raises(IllegalTransition, match="closed"):
        project(funding=GOAL).publish().close("completed").pledge(Decimal("5"), None, NOW)
    with pytest.raises(IllegalTransition, match="no funding goal"):
        project().publish().pledge(Decimal("5"), None, NOW)


def test_once_pledged_to_the_currency_stays_and_a_lower_goal_can_be_reached_by_the_edit() -> None:
    pledged = project(funding=GOAL).publish().pledge(Decimal("600"), None, NOW).project
    with pytest.raises(IllegalTransition, match="currency stays"):
        pledged.edited(
            EditProject.model_validate({"funding": {"goal_amount": "600.00", "currency": "MAD"}}),
            TAXONOMY,
            NOW,
        )
    lowered = pledged.edited(
        EditProject.model_validate({"funding": {"goal_amount": "500.00", "currency": "EUR"}}), TAXONOMY, NOW
    )
    assert lowered.goal_reached_at == NOW


def test_nobody_acts_for_an_erased_member_not_even_through_managers_left_in_a_late_snapshot() -> None:
    assert MemberFacts("a", "association", ["amina"]).may_act_for("amina")
    assert not MemberFacts("a", ERASED_KIND, ["amina"]).may_act_for("amina")
    assert not MemberFacts("amina", ERASED_KIND, []).may_act_for("amina")


def test_a_pledge_that_would_take_the_total_beyond_what_the_ledger_holds_is_refused() -> None:
    nearly_full = replace(project(funding=GOAL).publish(), pledged_total=Decimal("9999999999000.00"))
    assert nearly_full.pledge(Decimal("999.99"), None, NOW).project.pledged_total == MAX_TOTAL
    with pytest.raises(InvalidField, match="beyond"):
        nearly_full.pledge(Decimal("1000.00"), None, NOW)
    assert nearly_full.pledged_total == Decimal("9999999999000.00")
