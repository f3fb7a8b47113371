"""Whether an offer fits a need, and why."""

from matching.domain import MemberFacts, Offer, OpenNeed, fit

NEED = OpenNeed(
    project_id="p",
    need_id="n",
    territory_id="tafraout",
    skill="energy.solar_pv_design",
    min_level=3,
    mode="remote",
    project_languages=["fr"],
)


def offer(**changes) -> Offer:
    values = {
        "offer_id": "o",
        "member_id": "m",
        "skill": "energy.solar_pv_design",
        "level": 4,
        "modes": ["remote"],
        "languages": ["fr"],
        **changes,
    }
    return Offer(**values)


def test_an_exact_skill_with_an_origin_bond_and_a_shared_language_scores_highest_and_says_why() -> None:
    member = MemberFacts("m", ["fr"], [{"territory_id": "tafraout", "bond": "origin"}])
    found = fit(NEED, offer(), member)
    assert found is not None
    assert found.reasons == ["skill_exact", "mode:remote", "bond_origin", "language:fr"]
    assert found.score == 0.9


def test_bonds_rank_origin_above_family_above_heart_above_none() -> None:
    scores = []
    for bond in ("origin", "family", "heart"):
        member = MemberFacts("m", ["fr"], [{"territory_id": "tafraout", "bond": bond}])
        scores.append(fit(NEED, offer(), member).score)
    scores.append(fit(NEED, offer(), MemberFacts("m", ["fr"], [])).score)
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 4


def test_hard_rules_exclude_a_pair() -> None:
    assert fit(NEED, offer(skill="health.nurse_training"), None) is None
    assert fit(NEED, offer(level=2), None) is None
    assert fit(NEED, offer(modes=["short_mission"]), None) is None
    assert fit(NEED, offer(languages=["nl"]), MemberFacts("m", ["nl"], [])) is None


def test_a_member_s_profile_languages_count_as_well_as_the_offer_s() -> None:
    found = fit(NEED, offer(languages=[]), MemberFacts("m", ["fr", "ar"], []))
    assert found is not None and "language:fr" in found.reasons
