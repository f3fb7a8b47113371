"""Whether an offer fits a need, how well, and why; and how a match moves through its life."""

from dataclasses import replace
from datetime import date

import pytest
from matching.domain import evaluate, transition
from matching.facts import MemberFacts, NeedFacts, OfferFacts
from passerelle.errors import IllegalTransition

NEED = NeedFacts(
    need_id="n",
    project_id="p",
    skill="energy.solar_pv_design",
    min_level=3,
    mode="remote",
    count=1,
    lineage=("tafraout", "tiznit", "souss-massa", "morocco"),
    languages=frozenset({"fr"}),
    sector="energy",
    utc_offset=1.0,
)
OFFER = OfferFacts(
    offer_id="o",
    member_id="m",
    skill="energy.solar_pv_design",
    level=4,
    modes=frozenset({"remote"}),
    languages=frozenset({"fr"}),
)


def member(*attachments: tuple[str, str], **changes: object) -> MemberFacts:
    values = {"member_id": "m", "languages": frozenset({"fr"}), "attachments": attachments, "utc_offset": 1.0}
    return MemberFacts(**{**values, **changes})  # type: ignore[arg-type]


def test_an_exact_skill_with_an_origin_bond_and_a_shared_language_scores_highest_and_says_why() -> None:
    found = evaluate(NEED, OFFER, member(("tafraout", "origin"), sectors=frozenset({"energy"})), "exact")
    assert found is not None
    assert found.reasons == (
        "skill_exact",
        "mode:remote",
        "bond_origin",
        "language:fr",
        "sector:energy",
        "timezone_close",
    )
    assert found.score == 1.0


def test_bonds_rank_origin_above_family_above_heart_above_none_and_the_commune_above_its_region() -> None:
    scores = [
        evaluate(NEED, OFFER, member(("tafraout", bond)), "exact").score
        for bond in ("origin", "family", "heart")
    ]
    scores.append(evaluate(NEED, OFFER, member(), "exact").score)
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 4
    region = evaluate(NEED, OFFER, member(("souss-massa", "origin")), "exact")
    assert scores[1] < region.score < scores[0] and "bond_origin" in region.reasons


def test_the_exact_skill_beats_a_narrower_related_or_broader_one() -> None:
    scores = [
        evaluate(NEED, OFFER, member(), relation).score
        for relation in ("exact", "narrower", "related", "broader")
    ]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 4


def test_hard_rules_exclude_a_pair() -> None:
    nobody = member(languages=frozenset({"nl"}))
    assert evaluate(NEED, replace(OFFER, level=2), None, "exact") is None, "below the level asked"
    assert evaluate(NEED, replace(OFFER, modes=frozenset({"short_mission"})), None, "exact") is None
    assert evaluate(NEED, replace(OFFER, languages=frozenset({"nl"})), nobody, "exact") is None, (
        "no shared language"
    )
    on_site = replace(NEED, mode="short_mission")
    assert evaluate(on_site, replace(OFFER, modes=frozenset({"short_mission"})), member(), "exact") is None, (
        "on site needs a tie to the place"
    )
    elsewhere = replace(OFFER, territory_ids=frozenset({"kayes"}))
    assert evaluate(NEED, elsewhere, member(), "exact") is None, "an offer for other territories"


def test_without_a_bond_a_member_still_qualifies_for_remote_work() -> None:
    assert evaluate(NEED, OFFER, member(), "exact") is not None


def test_availability_must_overlap_when_both_give_dates_and_counts_by_how_much() -> None:
    dated = replace(NEED, starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 31))
    assert evaluate(dated, replace(OFFER, available_until=date(2027, 2, 1)), member(), "exact") is None
    partly = evaluate(dated, replace(OFFER, available_until=date(2027, 3, 15)), member(), "exact")
    fully = evaluate(dated, replace(OFFER, available_from=date(2027, 1, 1)), member(), "exact")
    assert "available_partly" in partly.reasons and "available" in fully.reasons
    assert partly.score < fully.score


def test_a_far_time_zone_lowers_the_score_of_remote_work_only() -> None:
    near = evaluate(NEED, OFFER, member(utc_offset=1.0), "exact")
    far = evaluate(NEED, OFFER, member(utc_offset=-8.0), "exact")
    assert far.score < near.score and "timezone_close" not in far.reasons
    on_site_need = replace(NEED, mode="short_mission")
    on_site = replace(OFFER, modes=frozenset({"short_mission"}))
    assert (
        evaluate(on_site_need, on_site, member(("tafraout", "heart"), utc_offset=1.0), "exact").score
        == evaluate(on_site_need, on_site, member(("tafraout", "heart"), utc_offset=-8.0), "exact").score
    )


def test_a_match_is_accepted_then_confirmed_or_declined_and_nothing_else() -> None:
    assert transition("proposed", "accept") == "accepted"
    assert transition("accepted", "confirm") == "confirmed"
    assert transition("accepted", "decline") == "declined"
    for status, action in [
        ("proposed", "confirm"),
        ("confirmed", "decline"),
        ("declined", "accept"),
        ("withdrawn", "accept"),
    ]:
        with pytest.raises(IllegalTransition):
            transition(status, action)
