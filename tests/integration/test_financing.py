"""Participatory financing (contract 4.8) through the HTTP API and its events, on the real NATS and
PostgreSQL: plans against programmes, campaigns closed by the due-campaign loop, collections by the
collector's confirmers, co-funding and the public ledger."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from passerelle.messaging.unit_of_work import EventLimit, units
from passerelle.persistence.database import Database
from projects.financing import references
from projects.financing.handlers import FinancingHandlers, FinancingRules, system_clock
from projects.financing.loops import FinancingLoop
from projects.financing.programmes import load_programmes
from projects.financing.repository import FinancingRepository

from ..harness import Platform, eventually
from .scenario import name_manager, profile, territory

INSTRUCTIONS = "IBAN FR76 3000 4000 0500 0012 3456 789, Tafraout Solidarité; write the reference"
Pass = Callable[[datetime], Awaitable[int]]


@pytest.fixture
async def time_passes(platform: Platform) -> AsyncIterator[Pass]:
    """A pass of the due-campaign and lapse loop at the time given: a second replica of it, on the
    projects database, whose clock the test moves (the service's own loop sees today)."""
    database = Database(platform.database_urls["projects"])
    made = units(database, FinancingRepository, EventLimit())
    handlers = FinancingHandlers(made, FinancingRules(load_programmes(), 30, (7, 21)))
    loop = FinancingLoop(made, handlers, 1.0, 50, system_clock)
    yield loop.run_once
    await database.dispose()


def soon(hours: float = 1) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


def plan(confirmers: list[str], **changes: Any) -> dict[str, Any]:
    return {
        "budget_amount": "20000.00",
        "currency": "EUR",
        "lines": [
            {"source": "diaspora_campaign", "label": "The diaspora's campaign", "amount": "12000.00"},
            {
                "source": "commune_budget",
                "label": "Commune of Tafraout",
                "amount": "3000.00",
                "status": "committed",
            },
            {"source": "cofunding", "label": "The commune matches 1:1", "amount": "3000.00"},
            {"source": "own_funds", "label": "The association", "amount": "2000.00", "status": "received"},
        ],
        "collector": {
            "kind": "association",
            "name": "Tafraout Solidarité",
            "payment_instructions": INSTRUCTIONS,
            "confirmer_subs": confirmers,
        },
        **changes,
    }


async def financed_project(platform: Platform, goal: str = "12000.00") -> dict[str, str]:
    """Amina's published solar project in Tafraout, whose collector's treasurer is Hafsa."""
    tafraout = await territory(platform)
    await name_manager(platform, tafraout, "amina")
    project = await platform.call(
        "POST",
        "/projects",
        "amina",
        expect=201,
        json={
            "territory_id": tafraout,
            "title": "Tafraout solar pumps",
            "summary": "Solar pumps for the palm grove.",
            "sector": "energy",
            "funding": {"goal_amount": goal, "currency": "EUR"},
        },
    )
    path = f"/projects/{project['project_id']}"
    await platform.call("POST", f"{path}/publish", "amina", expect=200)
    await platform.call("PUT", f"{path}/financing-plan", "amina", expect=200, json=plan(["hafsa"]))
    return {"territory_id": tafraout, "project_id": project["project_id"], "path": path}


async def campaign(platform: Platform, path: str, rule: str, goal: str = "12000.00", **extra: Any) -> str:
    body = {"goal_amount": goal, "currency": "EUR", "rule": rule, "closes_at": soon().isoformat(), **extra}
    created = await platform.call("POST", f"{path}/campaigns", "amina", expect=201, json=body)
    assert created["status"] == "open" and created["pledged_total"] == "0.00"
    return str(created["campaign_id"])


async def pledge(platform: Platform, path: str, sub: str, amount: str, **extra: Any) -> dict[str, Any]:
    return dict(
        await platform.call("POST", f"{path}/pledges", sub, expect=201, json={"amount": amount, **extra})
    )


async def member(platform: Platform, sub: str, territory_id: str, locale: str = "fr") -> None:
    await platform.call(
        "POST", "/members", sub, expect=201, json=profile(sub.title(), territory_id, locale=locale)
    )


async def notices(platform: Platform, sub: str, kind: str, count: int = 1) -> list[dict[str, Any]]:
    """The member's notices of that kind, once there are `count`."""

    async def found() -> list[dict[str, Any]]:
        inbox = await platform.call("GET", "/notifications", sub, params={"member_id": sub}, expect=200)
        mine = [notice for notice in inbox if notice["kind"] == kind]
        return mine if len(mine) >= count else []

    return await eventually(found)


async def events_of(platform: Platform, name: str, count: int) -> list[dict[str, Any]]:
    return [event["data"] for event in await platform.published("PROJECTS", name, count)]


async def test_a_pledge_gets_a_typeable_reference_and_the_collector_s_payment_instructions(
    platform: Platform,
) -> None:
    project = await financed_project(platform)
    made = await pledge(platform, project["path"], "fatima", "250", public_name="Fatima B.")

    reference = made["reference"]
    assert reference.startswith("TAF-") and len(reference) == len("TAF-7K4Q-2M")
    assert not set(reference) & set("01OI")
    assert made["payment_instructions"] == INSTRUCTIONS and made["status"] == "pledged"
    assert made["amount"] == "250.00"
    seen = await platform.call("GET", f"/pledges/{made['pledge_id']}", "fatima", expect=200)
    assert seen["reference"] == reference
    assert (
        await platform.http.get(f"/pledges/{made['pledge_id']}", headers=platform.as_("omar"))
    ).status_code == 403
    [event] = await events_of(platform, "PledgeMade", 1)
    assert event["reference"] == reference and event["offline"] is False and event.get("campaign_id") is None


async def test_an_all_or_nothing_campaign_missing_its_goal_fails_releases_each_pledge_once_refuses_pledges(
    platform: Platform, time_passes: Pass
) -> None:
    project = await financed_project(platform)
    path = project["path"]
    await member(platform, "fatima", project["territory_id"])
    await member(platform, "youssef", project["territory_id"], locale="en")
    campaign_id = await campaign(platform, path, "all_or_nothing", minimum_amount="5000.00")
    pledges = [await pledge(platform, path, donor, "300") for donor in ("fatima", "youssef", "omar")]
    assert {p["campaign_id"] for p in pledges} == {campaign_id}
    cancelled = await platform.call("POST", f"/pledges/{pledges[2]['pledge_id']}/cancel", "omar", expect=200)
    assert cancelled["status"] == "cancelled"

    closing = await platform.call("GET", f"{path}/campaigns/{campaign_id}", "x", expect=200)
    closes_at = datetime.fromisoformat(closing["closes_at"])
    assert await time_passes(closes_at + timedelta(minutes=1)) == 1
    assert await time_passes(closes_at + timedelta(minutes=2)) == 0, "a campaign closes once"

    [closed] = await platform.call("GET", f"{path}/campaigns", "x", expect=200)
    assert closed["status"] == "failed" and closed["pledged_total"] == "600.00"
    for made in pledges[:2]:
        seen = await platform.call("GET", f"/pledges/{made['pledge_id']}", "amina", expect=200)
        assert seen["status"] == "released"
    late = await platform.http.post(
        f"{path}/pledges", headers=platform.as_("karim"), json={"amount": "100", "campaign_id": campaign_id}
    )
    assert late.status_code == 409 and closes_at.strftime("%Y-%m-%d") in late.json()["detail"]
    assert (
        await platform.http.post(f"{path}/pledges", headers=platform.as_("karim"), json={"amount": "100"})
    ).status_code == 409, "once a project has campaigns, its pledges go to them"

    [failed] = await events_of(platform, "CampaignFailed", 1)
    assert failed["threshold"] == "5000.00" and failed["pledged_total"] == "600.00"
    released = await events_of(platform, "PledgeReleased", 2)
    assert sorted(e["pledge_id"] for e in released) == sorted(p["pledge_id"] for p in pledges[:2])
    assert (await platform.call("GET", path, "amina", expect=200))["pledged_total"] == "0.00"
    [french] = await notices(platform, "fatima", "pledge_released")
    [english] = await notices(platform, "youssef", "pledge_released")
    assert "300,00 EUR" in french["body"] and "EUR 300.00" in english["body"]
    await eventually(lambda: platform.drained("PROJECTS", "notifications__PledgeReleased_v1", 2))
    inbox = await platform.call("GET", "/notifications", "fatima", params={"member_id": "fatima"}, expect=200)
    assert [n["kind"] for n in inbox].count("pledge_released") == 1, "one notice each"


async def test_a_keep_it_all_campaign_succeeds_with_its_total_and_a_closed_one_is_extended_until_collected(
    platform: Platform, time_passes: Pass
) -> None:
    project = await financed_project(platform)
    path = project["path"]
    campaign_id = await campaign(platform, path, "keep_it_all")
    first = await pledge(platform, path, "fatima", "400")
    await pledge(platform, path, "youssef", "350.50")
    closes_at = datetime.fromisoformat(
        (await platform.call("GET", f"{path}/campaigns/{campaign_id}", "x", expect=200))["closes_at"]
    )
    assert await time_passes(closes_at) == 1

    [succeeded] = await events_of(platform, "CampaignSucceeded", 1)
    assert succeeded["pledged_total"] == "750.50" and sorted(succeeded["pledger_member_ids"]) == [
        "fatima",
        "youssef",
    ]
    later = soon(48).isoformat()
    extended = await platform.call(
        "POST", f"{path}/campaigns/{campaign_id}/extend", "amina", expect=200, json={"closes_at": later}
    )
    assert extended["status"] == "open"
    await pledge(platform, path, "omar", "49.50")
    assert await time_passes(datetime.fromisoformat(later)) == 1
    await platform.call(
        "POST",
        f"{path}/collections",
        "hafsa",
        expect=200,
        json={"items": [{"reference": first["reference"], "method": "bank_transfer"}]},
    )
    refused = await platform.http.post(
        f"{path}/campaigns/{campaign_id}/extend",
        headers=platform.as_("amina"),
        json={"closes_at": soon(96).isoformat()},
    )
    assert refused.status_code == 409 and "collected" in refused.json()["detail"]
    final = await platform.call("GET", f"{path}/campaigns/{campaign_id}", "x", expect=200)
    assert final["status"] == "succeeded" and final["pledged_total"] == "800.00"
    assert final["collected_total"] == "400.00"


async def test_a_one_to_one_offer_capped_at_500_applies_400_then_100_and_collecting_twice_adds_nothing(
    platform: Platform,
) -> None:
    project = await financed_project(platform)
    path = project["path"]
    commune = await platform.call(
        "POST",
        "/members",
        "mayor",
        expect=201,
        json={
            **profile("Commune de Tafraout", project["territory_id"]),
            "kind": "local_actor",
            "managers": ["mayor"],
        },
    )
    await eventually(lambda: platform.drained("MEMBERS", "projects__MemberRegistered_v1"))
    offer = await platform.call(
        "POST",
        f"{path}/cofunding-offers",
        "mayor",
        expect=201,
        json={
            "sponsor_member_id": commune["member_id"],
            "ratio": "1",
            "cap_amount": "500",
            "currency": "EUR",
        },
    )
    refused = await platform.http.post(
        f"{path}/cofunding-offers",
        headers=platform.as_("fatima"),
        json={
            "sponsor_member_id": commune["member_id"],
            "ratio": "1",
            "cap_amount": "500",
            "currency": "EUR",
        },
    )
    assert refused.status_code == 403
    await member(platform, "fatima", project["territory_id"])
    first = await pledge(platform, path, "fatima", "400")
    second = await pledge(platform, path, "youssef", "300")
    ledger = await platform.call("GET", f"{path}/ledger", "x", expect=200)
    assert ledger["cofunded_total"] == "0.00", "a mere pledge brings no co-funding"

    for made in (first, second):
        await platform.call(
            "POST",
            f"{path}/collections",
            "hafsa",
            expect=200,
            json={"items": [{"reference": made["reference"].lower(), "method": "bank_transfer"}]},
        )
    again = await platform.http.post(
        f"{path}/collections",
        headers=platform.as_("hafsa"),
        json={"items": [{"reference": first["reference"], "method": "cash"}]},
    )
    assert again.status_code == 422 and f"{first['reference']} (already collected)" in again.json()["detail"]

    applied = await events_of(platform, "CofundingApplied", 2)
    assert [(e["pledge_id"], e["amount"], e["exhausted"]) for e in applied] == [
        (first["pledge_id"], "400.00", False),
        (second["pledge_id"], "100.00", True),
    ]
    [offered] = await platform.call("GET", f"{path}/cofunding-offers", "x", expect=200)
    assert offered["offer_id"] == offer["offer_id"] and offered["status"] == "exhausted"
    ledger = await platform.call("GET", f"{path}/ledger", "x", expect=200)
    assert (ledger["pledged_total"], ledger["collected_total"], ledger["cofunded_total"]) == (
        "700.00",
        "700.00",
        "500.00",
    )
    assert ledger["by_source"]["cofunding"] == {
        "planned_amount": "3000.00",
        "committed_amount": "500.00",
        "received_amount": "500.00",
    }
    assert ledger["by_source"]["commune_budget"]["committed_amount"] == "3000.00"
    [collected] = await notices(platform, "fatima", "pledge_collected")
    assert "vos 400,00 EUR sont bien arrivés" in collected["body"]


async def test_a_batch_with_one_unknown_reference_changes_nothing_and_names_it(platform: Platform) -> None:
    project = await financed_project(platform)
    path = project["path"]
    made = await pledge(platform, path, "fatima", "250")
    unknown = references.new_reference("TAF")  # well typed, but nobody's
    refused = await platform.http.post(
        f"{path}/collections",
        headers=platform.as_("hafsa"),
        json={
            "items": [
                {"reference": made["reference"], "method": "bank_transfer"},
                {"reference": unknown, "method": "bank_transfer"},
            ]
        },
    )
    assert refused.status_code == 422
    assert (
        f"{unknown} (unknown)" in refused.json()["detail"]
        and made["reference"] not in refused.json()["detail"]
    )
    seen = await platform.call("GET", f"/pledges/{made['pledge_id']}", "fatima", expect=200)
    assert seen["status"] == "pledged"
    assert (await platform.call("GET", f"{path}/ledger", "x", expect=200))["collected_total"] == "0.00"


async def test_only_the_collector_s_confirmers_record_collections_and_offline_pledges(
    platform: Platform,
) -> None:
    project = await financed_project(platform)
    path = project["path"]
    made = await pledge(platform, path, "fatima", "250")
    batch = {"items": [{"reference": made["reference"], "method": "bank_transfer"}]}
    for sub in ("amina", "fatima"):
        assert (
            await platform.http.post(f"{path}/collections", headers=platform.as_(sub), json=batch)
        ).status_code == 403
    cash = {"amount": "80", "method": "cash", "public_name": "Village meeting of 12 May"}
    assert (
        await platform.http.post(f"{path}/offline-pledges", headers=platform.as_("amina"), json=cash)
    ).status_code == 403

    recorded = await platform.call("POST", f"{path}/offline-pledges", "hafsa", expect=201, json=cash)
    assert recorded["status"] == "collected" and recorded["offline"] is True
    ledger = await platform.call("GET", f"{path}/ledger", "x", expect=200)
    assert (ledger["pledged_total"], ledger["collected_total"]) == ("330.00", "80.00")
    assert {entry["name"] for entry in ledger["pledges"]} == {None, "Village meeting of 12 May"}


async def test_a_plan_breaking_a_programme_rule_is_a_422_naming_the_rule_and_the_programme(
    platform: Platform,
) -> None:
    project = await financed_project(platform)
    path = f"{project['path']}/financing-plan"
    grant = {"source": "grant", "label": "PRA/OSIM", "programme_code": "FR-PRA-OSIM"}
    cases = [
        ({"budget_amount": "100000.00", "lines": [{**grant, "amount": "20000.00"}]}, "max_amount"),
        ({"budget_amount": "10000.00", "lines": [{**grant, "amount": "7500.00"}]}, "max_share_of_budget"),
        ({"budget_amount": "150000.00", "lines": [{**grant, "amount": "10000.00"}]}, "max_budget"),
    ]
    for changes, rule in cases:
        refused = await platform.http.put(
            path, headers=platform.as_("amina"), json=plan(["hafsa"], **changes)
        )
        assert refused.status_code == 422, refused.text
        detail = refused.json()["detail"]
        assert f"rule {rule}" in detail and "FR-PRA-OSIM" in detail
    kept = await platform.call("GET", path, "x", expect=200)
    assert kept["budget_amount"] == "20000.00" and kept["collector"]["confirmer_subs"] is None
    assert (await platform.call("GET", path, "hafsa", expect=200))["you_confirm"] is True
    assert kept["you_confirm"] is False
    fine = await platform.call(
        "PUT",
        path,
        "amina",
        expect=200,
        json=plan(["hafsa"], lines=[{**grant, "amount": "7000.00"}], budget_amount="10000.00"),
    )
    assert fine["lines"][0]["programme_code"] == "FR-PRA-OSIM"
    programmes = await platform.call("GET", "/financing-programmes", "x", expect=200)
    assert {"FR-PRA-OSIM", "SN-PAISD", "MX-3X1"} <= {p["code"] for p in programmes}


async def test_pledges_racing_the_close_are_all_before_it_add_up_and_reach_the_goal_once(
    platform: Platform, time_passes: Pass
) -> None:
    project = await financed_project(platform, goal="1000.00")
    path = project["path"]
    closes_at = datetime.now(UTC) + timedelta(seconds=3)
    created = await platform.call(
        "POST",
        f"{path}/campaigns",
        "amina",
        expect=201,
        json={
            "goal_amount": "1000.00",
            "currency": "EUR",
            "rule": "keep_it_all",
            "closes_at": closes_at.isoformat(),
        },
    )

    async def donor(n: int) -> Any:
        await asyncio.sleep(n * 0.15)
        return await platform.http.post(
            f"{path}/pledges",
            headers=platform.as_(f"donor-{n}"),
            json={"amount": "100.00", "campaign_id": created["campaign_id"]},
        )

    async def closer() -> None:
        await asyncio.sleep(max(0.0, (closes_at - datetime.now(UTC)).total_seconds()))
        while not await time_passes(datetime.now(UTC)):
            await asyncio.sleep(0.05)

    *responses, _ = await asyncio.gather(*(donor(n) for n in range(40)), closer())
    accepted = [r.json() for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code != 201]
    assert accepted and refused, "some pledges came before the close, some after"
    assert all(datetime.fromisoformat(p["pledged_at"]) < closes_at for p in accepted)
    assert all(r.status_code == 409 and "closed on" in r.json()["detail"] for r in refused)
    final = await platform.call("GET", f"{path}/campaigns/{created['campaign_id']}", "x", expect=200)
    assert final["status"] == "succeeded"
    assert Decimal(final["pledged_total"]) == sum(Decimal(p["amount"]) for p in accepted)
    await events_of(platform, "CampaignSucceeded", 1)
    reached = [e for e in await platform.events("PROJECTS") if e["type"].endswith("FundingGoalReached.v1")]
    assert len(reached) == (1 if len(accepted) >= 10 else 0)


async def test_erasure_keeps_the_ledger_true_and_takes_the_pledger_s_name_and_reference(
    platform: Platform,
) -> None:
    project = await financed_project(platform)
    path = project["path"]
    await platform.call(
        "POST", "/members", "fatima", expect=201, json=profile("Fatima", project["territory_id"])
    )
    made = await pledge(platform, path, "fatima", "250", public_name="Fatima B.")
    await platform.call(
        "POST",
        f"{path}/collections",
        "hafsa",
        expect=200,
        json={"items": [{"reference": made["reference"], "method": "mobile_money"}]},
    )
    await pledge(platform, path, "youssef", "100", public_name="Youssef")
    before = await platform.call("GET", f"{path}/ledger", "x", expect=200)
    assert "Fatima B." in {entry["name"] for entry in before["pledges"]}

    await platform.call(
        "POST", "/members", "hafsa", expect=201, json=profile("Hafsa", project["territory_id"])
    )
    for erased in ("fatima", "hafsa"):
        await platform.call("DELETE", f"/members/{erased}", erased, expect=202)
    await eventually(lambda: platform.drained("MEMBERS", "projects__MemberErased_v1", 2))
    plan_now = await platform.call("GET", f"{path}/financing-plan", "amina", expect=200)
    assert plan_now["collector"]["confirmer_subs"] == [], "an erased treasurer confirms nothing more"

    after = await platform.call("GET", f"{path}/ledger", "x", expect=200)
    assert {entry["name"] for entry in after["pledges"]} == {None, "Youssef"}
    assert [(e["amount"], e["status"]) for e in after["pledges"]] == [
        (e["amount"], e["status"]) for e in before["pledges"]
    ]
    for total in ("pledged_total", "collected_total", "cofunded_total"):
        assert after[total] == before[total]
    seen = await platform.call("GET", f"/pledges/{made['pledge_id']}", "amina", expect=200)
    assert (seen["member_id"], seen["reference"], seen["public_name"], seen["status"]) == (
        None,
        None,
        None,
        "collected",
    )


async def test_unpaid_pledges_of_a_successful_campaign_are_reminded_on_days_7_and_21_then_lapse(
    platform: Platform, time_passes: Pass
) -> None:
    project = await financed_project(platform)
    path = project["path"]
    campaign_id = await campaign(platform, path, "keep_it_all")
    paid = await pledge(platform, path, "fatima", "400")
    unpaid = await pledge(platform, path, "youssef", "300")
    closes_at = datetime.fromisoformat(
        (await platform.call("GET", f"{path}/campaigns/{campaign_id}", "x", expect=200))["closes_at"]
    )
    await time_passes(closes_at)
    await platform.call(
        "POST",
        f"{path}/collections",
        "hafsa",
        expect=200,
        json={"items": [{"reference": paid["reference"], "method": "bank_transfer"}]},
    )
    for day in (1, 7, 8, 21, 29):
        await time_passes(closes_at + timedelta(days=day, minutes=1))
    reminded = await events_of(platform, "PledgeCollectionReminded", 2)
    assert [(e["pledge_id"], e["reminder"]) for e in reminded] == [
        (unpaid["pledge_id"], 1),
        (unpaid["pledge_id"], 2),
    ]
    assert (await platform.call("GET", f"/pledges/{unpaid['pledge_id']}", "youssef", expect=200))[
        "status"
    ] == "pledged"

    await time_passes(closes_at + timedelta(days=30))
    [lapsed] = await events_of(platform, "PledgeLapsed", 1)
    assert lapsed["pledge_id"] == unpaid["pledge_id"]
    assert (await platform.call("GET", f"/pledges/{unpaid['pledge_id']}", "youssef", expect=200))[
        "status"
    ] == "lapsed"
    ledger = await platform.call("GET", f"{path}/ledger", "x", expect=200)
    assert (ledger["pledged_total"], ledger["collected_total"]) == ("400.00", "400.00")
    await time_passes(closes_at + timedelta(days=31))
    reminders = [
        e for e in await platform.events("PROJECTS") if e["type"].endswith("PledgeCollectionReminded.v1")
    ]
    assert len(reminders) == 2, "each reminder goes out once"


async def test_the_team_posts_updates_for_those_who_gave_and_cancelling_a_campaign_releases_its_pledges(
    platform: Platform,
) -> None:
    project = await financed_project(platform)
    path = project["path"]
    campaign_id = await campaign(platform, path, "all_or_nothing")
    made = await pledge(platform, path, "fatima", "120")
    forbidden = await platform.http.post(
        f"{path}/updates", headers=platform.as_("fatima"), json={"title": "Hello", "body": "Mine"}
    )
    assert forbidden.status_code == 403
    posted = await platform.call(
        "POST",
        f"{path}/updates",
        "amina",
        expect=201,
        json={"title": "The pumps are ordered", "body": "Two pumps."},
    )
    listed = await platform.http.get(f"{path}/updates", headers=platform.as_("x"))
    assert listed.headers["X-Total-Count"] == "1" and listed.json()[0]["update_id"] == posted["update_id"]
    [event] = await events_of(platform, "ProjectUpdatePosted", 1)
    assert event["pledger_member_ids"] == ["fatima"] and "body" not in event

    cancelled = await platform.call("POST", f"{path}/campaigns/{campaign_id}/cancel", "amina", expect=200)
    assert cancelled["status"] == "cancelled"
    [released] = await events_of(platform, "PledgeReleased", 1)
    assert released["pledge_id"] == made["pledge_id"]
    await events_of(platform, "CampaignCancelled", 1)


async def test_a_pledge_or_a_campaign_sent_again_with_its_idempotency_key_is_made_once(
    platform: Platform,
) -> None:
    project = await financed_project(platform)
    path = project["path"]
    body = {"goal_amount": "900", "currency": "EUR", "rule": "keep_it_all", "closes_at": soon().isoformat()}
    headers = {**platform.as_("amina"), "Idempotency-Key": "campaign-1"}
    first, again = [
        await platform.http.post(f"{path}/campaigns", headers=headers, json=body) for _ in range(2)
    ]
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    headers = {**platform.as_("fatima"), "Idempotency-Key": "pledge-1"}
    made, replayed = [
        await platform.http.post(f"{path}/pledges", headers=headers, json={"amount": "50"}) for _ in range(2)
    ]
    assert made.json()["reference"] == replayed.json()["reference"]
    seen = await platform.call("GET", f"{path}/campaigns/{first.json()['campaign_id']}", "x", expect=200)
    assert seen["pledged_total"] == "50.00"
    await events_of(platform, "PledgeMade", 1)  # relayed after the campaign's event
    opened = [e for e in await platform.events("PROJECTS") if e["type"].endswith("CampaignOpened.v1")]
    assert len(opened) == 1


async def test_a_member_lists_their_own_pledges_newest_first_in_pages_and_no_one_else_s(
    platform: Platform,
) -> None:
    project = await financed_project(platform)
    first = await pledge(platform, project["path"], "fatima", "250")
    second = await pledge(platform, project["path"], "fatima", "40.5")
    await pledge(platform, project["path"], "omar", "99")

    page = await platform.http.get(
        "/pledges", params={"member_id": "fatima", "limit": 1}, headers=platform.as_("fatima")
    )
    assert page.status_code == 200 and page.headers["X-Total-Count"] == "2"
    assert 'rel="next"' in page.headers["Link"]
    [newest] = page.json()
    assert newest["pledge_id"] == second["pledge_id"] and newest["amount"] == "40.50"
    assert newest["project_title"] == "Tafraout solar pumps" and newest["status"] == "pledged"
    assert newest["reference"] == second["reference"] and newest["currency"] == "EUR"
    rest = await platform.call(
        "GET", "/pledges", "fatima", params={"member_id": "fatima", "limit": 1, "offset": 1}, expect=200
    )
    assert [p["pledge_id"] for p in rest] == [first["pledge_id"]]

    assert (
        await platform.http.get("/pledges", params={"member_id": "fatima"}, headers=platform.as_("omar"))
    ).status_code == 403
    seen = await platform.call(
        "GET", "/pledges", "ops", "operator", params={"member_id": "fatima"}, expect=200
    )
    assert len(seen) == 2
    missing = await platform.http.get("/pledges", headers=platform.as_("fatima"))
    assert missing.status_code == 422
