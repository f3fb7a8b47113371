"""An opportunity is reviewed before members see it, expires once, and takes one interest per member."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from opportunities.commands import CreateOpportunity, EditOpportunity, ExpressInterest
from opportunities.domain import (
    CLOSED,
    INTRODUCED,
    NEEDS_WORK,
    OPEN,
    SUBMITTED,
    Checks,
    create,
    express_interest,
)
from opportunities.programmes import load_catalogue
from passerelle.errors import IllegalTransition, InvalidField, RuleBroken
from passerelle.taxonomy import load_taxonomy
from pydantic import ValidationError

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
CHECKS = Checks(load_taxonomy(), load_catalogue().programmes)
TAKEOVER: dict[str, Any] = {
    "territory_id": "tafraout",
    "kind": "business_takeover",
    "sector": "agriculture",
    "title": "Take over an olive-oil cooperative's press",
    "summary": "The founders retire; the press and its 40 members need a new partner.",
    "language": "fr",
    "amount_min": "50000",
    "amount_max": "120000",
    "currency": "EUR",
    "instruments": ["equity", "loan"],
    "stage": "operating",
    "support_programmes": ["ma.mdm_invest"],
    "support_needs": [{"skill": "entrepreneurship.business_plan", "mode": "remote"}],
}


def takeover(**changes: Any) -> Any:
    return create("aicha", CreateOpportunity(**{**TAKEOVER, **changes}), CHECKS, NOW)


def test_a_new_opportunity_is_a_draft_with_amounts_written_one_way_and_needs_with_ids() -> None:
    opportunity = takeover()
    assert (opportunity.status, opportunity.promoter_member_id) == ("draft", "aicha")
    assert (opportunity.amount_min, opportunity.amount_max) == ("50000.00", "120000.00")
    assert opportunity.support_needs[0]["need_id"] and not opportunity.visible_to_members


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sector": "olives"}, "sector"),
        ({"support_programmes": ["xx.unknown"]}, "support_programmes.0"),
        ({"support_needs": [{"skill": "juggling"}]}, "support_needs.0.skill"),
        ({"currency": None}, "currency"),
        ({"expires_on": date(2026, 12, 1)}, "expires_on"),
    ],
)
def test_unknown_codes_an_amount_without_currency_or_a_past_expiry_are_refused(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidField) as refused:
        takeover(**changes)
    assert refused.value.field == field


def test_a_range_upside_down_or_an_unknown_kind_never_reaches_the_domain() -> None:
    with pytest.raises(ValidationError, match="amount_max is below"):
        CreateOpportunity(**{**TAKEOVER, "amount_min": "9", "amount_max": "8"})
    with pytest.raises(ValidationError, match="kind"):
        CreateOpportunity(**{**TAKEOVER, "kind": "securities"})


def test_review_goes_back_and_forth_until_approved_which_opens_it_for_ninety_days() -> None:
    submitted = takeover().submit(NOW)
    assert submitted.status == SUBMITTED
    needs_work = submitted.reviewed("needs_work", "Name the press's capacity", "karim", NOW)
    assert (needs_work.status, needs_work.review_notes, needs_work.visible_to_members) == (
        NEEDS_WORK,
        "Name the press's capacity",
        False,
    )
    with pytest.raises(IllegalTransition):
        needs_work.reviewed("approved", "", "karim", NOW)
    approved = needs_work.submit(NOW).reviewed("approved", "", "karim", NOW)
    assert (approved.status, approved.expires_on, approved.visible_to_members) == (
        OPEN,
        date(2027, 3, 1),
        True,
    )


def test_a_rejected_opportunity_closes_and_members_never_see_it() -> None:
    rejected = takeover().submit(NOW).reviewed("rejected", "Not an investment", "karim", NOW)
    assert (rejected.status, rejected.outcome, rejected.visible_to_members) == (CLOSED, "rejected", False)
    with pytest.raises(IllegalTransition):
        rejected.edited(EditOpportunity(title="Again"), CHECKS)


def test_the_reminder_is_due_fourteen_days_before_expiry_once_per_expiry_date() -> None:
    opened = takeover().submit(NOW).reviewed("approved", "", "karim", NOW)
    assert opened.expires_on is not None
    day_before_notice = opened.expires_on - timedelta(days=15)
    assert not opened.reminder_due(day_before_notice)
    assert opened.reminder_due(day_before_notice + timedelta(days=1))
    reminded = replace(opened, reminded_for=opened.expires_on)
    assert not reminded.reminder_due(opened.expires_on - timedelta(days=1))
    renewed = reminded.renewed(opened.expires_on - timedelta(days=1))
    assert renewed.expires_on == opened.expires_on + timedelta(days=89)
    assert renewed.reminder_due(renewed.expires_on - timedelta(days=14))
    assert opened.expired_by(opened.expires_on) and not opened.expired_by(day_before_notice)


def test_only_an_open_opportunity_is_concluded_and_nothing_closes_twice() -> None:
    with pytest.raises(IllegalTransition, match="only an open"):
        takeover().closed("concluded")
    withdrawn = takeover().closed("withdrawn")
    with pytest.raises(IllegalTransition, match="already closed"):
        withdrawn.closed("withdrawn")


def test_editing_keeps_the_ids_of_needs_sent_back_and_refuses_foreign_ones() -> None:
    opportunity = takeover()
    need = opportunity.support_needs[0]
    edited = opportunity.edited(
        EditOpportunity(support_needs=[{**need}, {"skill": "finance.accounting"}]), CHECKS
    )
    assert edited.support_needs[0]["need_id"] == need["need_id"] and len(edited.support_needs) == 2
    with pytest.raises(InvalidField, match="no need"):
        opportunity.edited(EditOpportunity(support_needs=[{"need_id": "other", "skill": "finance"}]), CHECKS)


def test_interest_goes_to_open_opportunities_of_others_and_is_answered_once() -> None:
    interest = ExpressInterest(role="investor", message="Bruxelles, 30 ans d'expérience")
    with pytest.raises(IllegalTransition):
        express_interest(takeover(), "youssef", interest, NOW)
    opened = takeover().submit(NOW).reviewed("approved", "", "karim", NOW)
    with pytest.raises(RuleBroken):
        express_interest(opened, "aicha", interest, NOW)
    expressed = express_interest(opened, "youssef", interest, NOW)
    introduced = expressed.answered(INTRODUCED, NOW)
    with pytest.raises(IllegalTransition, match="already answered"):
        introduced.answered("declined", NOW, decline_reason="timing")


def test_an_interests_amount_needs_a_currency() -> None:
    with pytest.raises(ValidationError, match="currency is required"):
        ExpressInterest(role="lender", amount_max="10000")
