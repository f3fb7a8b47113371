"""The rules of participatory financing, in plain Python: references, programmes, campaigns,
collections and co-funding."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from passerelle.errors import Forbidden, IllegalTransition, InvalidField, RuleBroken
from projects.financing import references
from projects.financing.domain import (
    Campaign,
    CofundingOffer,
    CollectionItem,
    Collector,
    Conditions,
    FinancingPlan,
    PlanLine,
    Pledge,
    collect_all,
    may_confirm,
    offer_cofunding,
    open_campaign,
)
from projects.financing.ledger import ledger
from projects.financing.programmes import load_programmes

NOW = datetime(2027, 6, 1, 12, tzinfo=UTC)
PROGRAMMES = load_programmes()
COLLECTOR = Collector("association", "Tafraout Solidarité", "IBAN ...", ("hafsa",))


def plan(budget: str, *lines: PlanLine, currency: str = "EUR") -> FinancingPlan:
    return FinancingPlan("p1", Decimal(budget), currency, lines, COLLECTOR)


def grant(amount: str, code: str = "FR-PRA-OSIM") -> PlanLine:
    return PlanLine("grant", "PRA/OSIM", Decimal(amount), "expected", code)


def test_a_reference_is_typeable_and_its_check_character_catches_a_typo() -> None:
    reference = references.new_reference(references.prefix_of("Tafraout solaire"))
    assert reference[:4] == "TAF-" and len(reference) == 11 and not set(reference) & set("01OI")
    assert references.is_valid(reference)
    typo = reference[:5] + ("Z" if reference[5] != "Z" else "Y") + reference[6:]
    assert not references.is_valid(typo)
    assert references.normalised(reference.lower().replace("-", " ")) == reference
    assert references.prefix_of("École d'Aït") == "ECL" and references.prefix_of("Aït") == "ATX"


def test_a_plan_within_the_pra_osim_rules_passes_and_each_broken_rule_is_named() -> None:
    assert plan("10000", grant("7000")).checked(PROGRAMMES, "EUR")
    cases = [
        (plan("100000", grant("16000")), "rule max_amount of programme FR-PRA-OSIM"),
        (plan("10000", grant("7000.01")), "rule max_share_of_budget of programme FR-PRA-OSIM"),
        (plan("120000.01", grant("1000")), "rule max_budget of programme FR-PRA-OSIM"),
        (plan("10000", grant("4000"), grant("3500")), "rule max_share_of_budget"),  # the lines add up
    ]
    for broken, rule in cases:
        with pytest.raises(RuleBroken, match=rule):
            broken.checked(PROGRAMMES, "EUR")
    with pytest.raises(InvalidField, match="unknown programme"):
        plan("1000", grant("10", code="NOPE")).checked(PROGRAMMES, "EUR")
    with pytest.raises(InvalidField, match="funds grant, cofunding lines, not loan"):
        plan("1000", PlanLine("loan", "x", Decimal(1), "expected", "FR-PRA-OSIM")).checked(PROGRAMMES, "EUR")
    with pytest.raises(InvalidField, match="collects MAD"):
        plan("1000").checked(PROGRAMMES, "MAD")


def campaign(rule: str, goal: str = "1000", minimum: str | None = None) -> Campaign:
    return open_campaign(
        "p1",
        Decimal(goal),
        Decimal(minimum) if minimum else None,
        "EUR",
        rule,
        NOW,
        NOW + timedelta(days=30),
        30,
        "EUR",
    )


def test_all_or_nothing_succeeds_at_its_minimum_and_keep_it_all_with_anything() -> None:
    closing = NOW + timedelta(days=30)
    assert (
        campaign("all_or_nothing", minimum="600").pledged(Decimal(600)).closed(closing).status == "succeeded"
    )
    assert campaign("all_or_nothing", minimum="600").pledged(Decimal(599)).closed(closing).status == "failed"
    assert campaign("all_or_nothing").pledged(Decimal(999)).closed(closing).status == "failed"
    assert campaign("keep_it_all").pledged(Decimal("0.01")).closed(closing).status == "succeeded"
    assert campaign("keep_it_all").closed(closing).status == "failed"
    with pytest.raises(IllegalTransition, match="already failed"):
        campaign("keep_it_all").closed(closing).closed(closing)


def test_a_closed_campaign_refuses_pledges_naming_its_date_and_reopens_only_while_nothing_is_collected() -> (
    None
):
    open_one = campaign("keep_it_all")
    with pytest.raises(IllegalTransition, match="closed on 2027-07-01 12:00 UTC"):
        open_one.accepting(NOW + timedelta(days=30))
    closed = open_one.pledged(Decimal(10)).closed(NOW + timedelta(days=30))
    later = NOW + timedelta(days=60)
    assert closed.extended(later, NOW + timedelta(days=31)).status == "open"
    with pytest.raises(InvalidField, match="closes_at"):
        open_one.extended(NOW + timedelta(days=1), NOW)
    with pytest.raises(IllegalTransition, match="was collected"):
        replace(closed, collected_total=Decimal(10)).extended(later, NOW + timedelta(days=31))
    with pytest.raises(InvalidField, match="minimum_amount"):
        campaign("all_or_nothing", goal="100", minimum="200")


def pledge(reference: str, status: str = "pledged") -> Pledge:
    return Pledge(
        f"id-{reference}", "p1", "fatima", Decimal(100), "EUR", NOW, reference=reference, status=status
    )


def test_a_batch_is_collected_whole_or_refused_listing_every_reference_that_cannot_be() -> None:
    a, b, c, d = (references.new_reference("TAF") for _ in range(4))
    found = {ref: pledge(ref, status) for ref, status in [(a, "pledged"), (b, "collected"), (c, "released")]}

    def item(reference: str) -> CollectionItem:
        return CollectionItem(reference, None, "bank_transfer", NOW)

    with pytest.raises(InvalidField) as refused:
        collect_all(found, [item(a), item(b), item(c), item(d), item(a), item("TAF-2345-67")], "hafsa")
    assert refused.value.message.endswith(
        f"{b} (already collected), {c} (released), {d} (unknown), {a} (twice in this batch), "
        "TAF-2345-67 (mistyped: its check character does not match)"
    )
    [(collected, _)] = collect_all(found, [item(a)], "hafsa")
    assert (collected.status, collected.collected_amount, collected.collected_by) == (
        "collected",
        100,
        "hafsa",
    )
    with pytest.raises(Forbidden):
        may_confirm(plan("1000"), "amina")


def test_an_offer_matches_ratio_times_collected_up_to_its_cap_and_only_when_its_conditions_hold() -> None:
    offer = CofundingOffer("o1", "p1", "commune", Decimal(1), Decimal(500), "EUR")
    assert offer.match(Decimal(400), set(), date(2027, 6, 1)) == 400
    after = offer.applied(Decimal(400))
    assert after.match(Decimal(300), set(), date(2027, 6, 1)) == 100
    assert after.applied(Decimal(100)).status == "exhausted"
    assert after.applied(Decimal(100)).match(Decimal(300), set(), date(2027, 6, 1)) == 0
    three_for_one = CofundingOffer("o2", "p1", "state", Decimal(3), Decimal(10000), "EUR")
    assert three_for_one.match(Decimal("33.33"), set(), date(2027, 6, 1)) == Decimal("99.99")
    fussy = CofundingOffer(
        "o3",
        "p1",
        "c",
        Decimal(1),
        Decimal(500),
        "EUR",
        Conditions(("origin",), date(2027, 1, 1), date(2027, 12, 31)),
    )
    assert fussy.match(Decimal(10), {"heart"}, date(2027, 6, 1)) == 0
    assert fussy.match(Decimal(10), {"origin"}, date(2028, 1, 1)) == 0
    assert fussy.match(Decimal(10), {"origin", "heart"}, date(2027, 6, 1)) == 10


def test_the_ledger_counts_what_stands_what_arrived_and_what_was_matched_and_names_only_the_public() -> None:
    pledges = [
        Pledge(
            "1",
            "p1",
            "a",
            Decimal(100),
            "EUR",
            NOW,
            public_name="Fatima",
            status="collected",
            collected_amount=Decimal(90),
        ),
        Pledge("2", "p1", "b", Decimal(50), "EUR", NOW),
        Pledge("3", "p1", "c", Decimal(70), "EUR", NOW, status="released"),
    ]
    offer = CofundingOffer("o1", "p1", "commune", Decimal(1), Decimal(500), "EUR")
    lines = (
        PlanLine("diaspora_campaign", "x", Decimal(1000), "expected"),
        PlanLine("grant", "y", Decimal(300), "committed"),
    )
    result = ledger("EUR", plan("2000", *lines), pledges, [offer], {"o1": Decimal(90)})
    assert (result.pledged_total, result.collected_total, result.cofunded_total) == (150, 90, 90)
    assert [entry.name for entry in result.entries] == ["Fatima", None, None]
    assert result.by_source["grant"].committed == 300 and result.by_source["grant"].received == 0
    assert (result.by_source["diaspora_campaign"].planned, result.by_source["cofunding"].committed) == (
        1000,
        500,
    )


def test_an_offer_reserved_for_other_territories_is_refused_and_one_in_another_currency_too() -> None:
    reserved = Conditions(territory_ids=("kayes",))
    with pytest.raises(RuleBroken, match="reserved for other territories"):
        offer_cofunding("p1", "EUR", ["tafraout", "tiznit"], "c", Decimal(1), Decimal(500), "EUR", reserved)
    within = Conditions(territory_ids=("tiznit",))
    assert offer_cofunding("p1", "EUR", ["tafraout", "tiznit"], "c", Decimal(1), Decimal(500), "EUR", within)
    with pytest.raises(InvalidField, match="collects EUR"):
        offer_cofunding("p1", "EUR", ["tafraout"], "c", Decimal(1), Decimal(500), "MAD", Conditions())
