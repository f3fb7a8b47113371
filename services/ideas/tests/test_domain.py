"""Plans, ideas and bonds as plain rules: no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from ideas.commands import CreatePlan, EditPlan, PhaseIn, PostIdea
from ideas.domain import Breakdown, MemberFacts, create_plan, post_idea
from passerelle.errors import IllegalTransition, InvalidField

START = date(2027, 1, 1)
NAMES = ("diagnosis", "ideas", "prioritisation", "adoption", "monitoring")


def chained(start: date = START, days: int = 10) -> list[PhaseIn]:
    return [
        PhaseIn(
            phase=name,
            starts_on=start + timedelta(days=i * days),
            ends_on=start + timedelta(days=(i + 1) * days - 1),
        )
        for i, name in enumerate(NAMES)
    ]


def plan_command(**changes: object) -> CreatePlan:
    values: dict[str, object] = {
        "territory_id": "tafraout",
        "title": "PCD 2027-2032",
        "period_from": date(2027, 1, 1),
        "period_to": date(2032, 12, 31),
        "axes": [{"title": "Water", "sectors": ["water"]}],
        "phases": chained(),
    }
    return CreatePlan.model_validate({**values, **changes})


def test_a_plans_phases_follow_one_another_day_after_day_in_their_order() -> None:
    plan = create_plan(plan_command())
    assert [plan.phase_on(START + timedelta(days=d))["phase"] for d in (0, 9, 10, 49)] == [  # type: ignore[index]
        "diagnosis",
        "diagnosis",
        "ideas",
        "monitoring",
    ]
    assert (
        plan.phase_on(START - timedelta(days=1)) is None and plan.phase_on(START + timedelta(days=50)) is None
    )


def test_phases_out_of_order_with_a_gap_or_ending_before_they_start_are_refused() -> None:
    swapped = chained()
    swapped[1], swapped[2] = swapped[2], swapped[1]
    gap = chained()
    gap[2] = PhaseIn(
        phase="prioritisation", starts_on=gap[2].starts_on + timedelta(days=1), ends_on=gap[2].ends_on
    )
    backwards = chained()
    backwards[0] = PhaseIn(phase="diagnosis", starts_on=START, ends_on=START - timedelta(days=1))
    for phases, field in ((swapped, "phases"), (gap, "phases.2.starts_on"), (backwards, "phases.0.ends_on")):
        with pytest.raises(InvalidField) as refused:
            create_plan(plan_command(phases=phases))
        assert refused.value.field == field


def test_support_outside_its_phases_names_their_dates_and_the_phase_it_is_in() -> None:
    plan = create_plan(plan_command()).publish()
    plan.check_open_for("support", ("ideas", "prioritisation"), START + timedelta(days=15))
    with pytest.raises(IllegalTransition) as refused:
        plan.check_open_for("support is given to", ("ideas", "prioritisation"), START + timedelta(days=35))
    assert str(refused.value) == (
        "support is given to this plan only during ideas from 2027-01-11 to 2027-01-20; prioritisation from"
        " 2027-01-21 to 2027-01-30; it is in its adoption phase (2027-02-05)"
    )


def test_a_draft_plan_takes_nothing_and_an_adopted_one_no_longer_changes() -> None:
    draft = create_plan(plan_command())
    with pytest.raises(IllegalTransition, match="it is draft"):
        draft.check_open_for("ideas", ("ideas",), START + timedelta(days=12))
    adopted = draft.publish().adopt()
    with pytest.raises(IllegalTransition):
        adopted.edited(EditPlan(title="Another"))
    assert adopted.archive().status == "archived"


def test_each_phase_is_announced_once_when_its_first_day_comes() -> None:
    plan = create_plan(plan_command()).publish()
    first = plan.phase_to_announce(START + timedelta(days=11))
    assert first is not None and first["phase"] == "ideas"
    told = type(plan)(**{**plan.__dict__, "announced_phase": "ideas"})
    assert told.phase_to_announce(START + timedelta(days=12)) is None
    assert told.phase_to_announce(START + timedelta(days=21))["phase"] == "prioritisation"  # type: ignore[index]


def test_editing_axes_keeps_the_ids_sent_back_and_refuses_unknown_ones() -> None:
    plan = create_plan(plan_command())
    water = plan.axes[0]["axis_id"]
    edited = plan.edited(
        EditPlan.model_validate({"axes": [{"axis_id": water, "title": "Water"}, {"title": "Health"}]})
    )
    assert edited.axes[0]["axis_id"] == water and len({axis["axis_id"] for axis in edited.axes}) == 2
    with pytest.raises(InvalidField):
        plan.edited(EditPlan.model_validate({"axes": [{"axis_id": "nope", "title": "Water"}]}))


def test_an_idea_on_an_axis_keeps_to_the_axis_sectors() -> None:
    plan = create_plan(plan_command())
    command = PostIdea(
        territory_id="tafraout",
        title="Pumps",
        body="Solar",
        language="fr",
        axis_id=plan.axes[0]["axis_id"],
        sector="health",
    )
    with pytest.raises(InvalidField, match="covers water"):
        post_idea(command, "fatima", plan, frozenset({"water", "health"}), datetime.now(UTC))
    with pytest.raises(InvalidField, match="unknown sector"):
        post_idea(command, "fatima", plan, frozenset({"water"}), datetime.now(UTC))


def test_a_member_bond_to_a_set_of_places_is_their_strongest_there() -> None:
    facts = MemberFacts(
        "karim",
        "person",
        [],
        "FR",
        [{"territory_id": "souss", "bond": "heart"}, {"territory_id": "tafraout", "bond": "family"}],
    )
    assert facts.bond_within({"tafraout", "souss"}) == "family"
    assert facts.bond_within({"souss"}) == "heart"
    assert facts.bond_within({"kayes"}) is None


def test_a_breakdown_counts_each_support_once_by_bond_and_once_by_residence() -> None:
    breakdown = Breakdown.of([("origin", False, 2), ("heart", False, 1), ("family", True, 1)])
    assert (breakdown.total, breakdown.by_bond, breakdown.by_residence) == (
        4,
        {"origin": 2, "family": 1, "heart": 1},
        {"in_country": 1, "abroad": 3},
    )
