"""Opportunities and introductions through the HTTP API and the events, on the real NATS and
PostgreSQL: reviewed before anyone sees them, introductions by double opt-in, expiry once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from opportunities.config import OpportunitiesSettings
from opportunities.handlers import OpportunitiesHandlers
from opportunities.programmes import load_catalogue
from opportunities.repository import SqlOpportunitiesRepository
from passerelle.contracts import IntroductionMade
from passerelle.runtime.service import load_services

from ..harness import Platform, eventually
from .scenario import name_manager, offer, profile

TAKEOVER: dict[str, Any] = {
    "kind": "business_takeover",
    "sector": "agriculture",
    "title": "Reprise de la coopérative oléicole",
    "summary": "Les fondateurs partent à la retraite ; le moulin et ses 40 membres cherchent repreneur.",
    "language": "fr",
    "amount_min": "50000",
    "amount_max": "120000",
    "currency": "EUR",
    "instruments": ["equity", "loan"],
    "stage": "operating",
    "support_programmes": ["ma.mdm_invest", "ma.medma"],
    "support_needs": [{"skill": "entrepreneurship.business_plan", "mode": "remote"}],
}


@dataclass
class Place:
    province: str
    commune: str


async def _territories(platform: Platform) -> Place:
    async def register(body: dict[str, Any]) -> str:
        created = await platform.call("POST", "/territories", "operator-1", "operator", expect=201, json=body)
        return str(created["territory_id"])

    province = await register({"name": "Tiznit", "country": "MA", "level": "province"})
    commune = await register({"name": "Tafraout", "country": "MA", "level": "commune", "parent_id": province})
    return Place(province, commune)


async def _people(platform: Platform, place: Place) -> None:
    """Aicha promotes (in Arabic), Youssef invests from Brussels (in French), Karim manages the province."""
    people = {
        "aicha": profile(
            "Aicha", place.commune, locale="ar", country_of_residence="MA", time_zone="Africa/Casablanca"
        ),
        "youssef": profile("Youssef", place.commune, bond="family"),
        "omar": profile("Omar", place.commune),
    }
    for sub, body in people.items():
        await platform.call("POST", "/members", sub, expect=201, json=body)
    await name_manager(platform, place.province, "karim")


async def _submitted(platform: Platform, place: Place, promoter: str = "aicha") -> dict[str, Any]:
    """A takeover submitted by its promoter, once the service knows the territory."""

    async def created() -> Any:
        response = await platform.http.post(
            "/opportunities", headers=platform.as_(promoter), json={**TAKEOVER, "territory_id": place.commune}
        )
        return response.json() if response.status_code == 201 else None

    opportunity = await eventually(created)
    path = f"/opportunities/{opportunity['opportunity_id']}"
    return dict(await platform.call("POST", f"{path}/submit", promoter, expect=200))


async def _approved(
    platform: Platform, opportunity: dict[str, Any], reviewer: str = "karim"
) -> dict[str, Any]:
    """Reviewed as soon as the service knows the reviewer manages the province."""
    path = f"/opportunities/{opportunity['opportunity_id']}/review"

    async def reviewed() -> Any:
        response = await platform.http.post(
            path, headers=platform.as_(reviewer), json={"decision": "approved"}
        )
        return response.json() if response.status_code == 200 else None

    return dict(await eventually(reviewed))


async def _listed(platform: Platform, sub: str, territory_id: str) -> list[str]:
    found = await platform.call(
        "GET", "/opportunities", sub, params={"territory_id": territory_id}, expect=200
    )
    return [opportunity["opportunity_id"] for opportunity in found]


async def _open_with_interest(platform: Platform) -> tuple[dict[str, Any], dict[str, Any]]:
    place = await _territories(platform)
    await _people(platform, place)
    opportunity = await _approved(platform, await _submitted(platform, place))
    interest = await platform.call(
        "POST",
        f"/opportunities/{opportunity['opportunity_id']}/interests",
        "youssef",
        expect=201,
        json={"role": "investor", "message": "Je vis à Bruxelles", "amount_max": "60000", "currency": "EUR"},
    )
    return opportunity, dict(interest)


async def _inbox(platform: Platform, member_id: str, kind: str) -> list[dict[str, Any]]:
    found = await platform.call(
        "GET", "/notifications", member_id, params={"member_id": member_id}, expect=200
    )
    return [notification for notification in found if notification["kind"] == kind]


async def test_a_submitted_opportunity_is_hidden_from_members_then_listed_under_its_commune_and_province(
    platform: Platform,
) -> None:
    place = await _territories(platform)
    await _people(platform, place)
    submitted = await _submitted(platform, place)
    path = f"/opportunities/{submitted['opportunity_id']}"

    await platform.call("GET", path, "youssef", expect=404)
    assert await _listed(platform, "youssef", place.commune) == []
    assert await platform.call("GET", path, "aicha", expect=200) == submitted
    await platform.call("POST", f"{path}/review", "aicha", expect=403, json={"decision": "approved"})

    approved = await _approved(platform, submitted)
    assert (approved["status"], approved["published_at"] is not None) == ("open", True)
    seen = await platform.call("GET", path, "youssef", expect=200)
    assert seen["review_notes"] is None and "indicative" in seen["disclaimer"]
    assert await _listed(platform, "youssef", place.commune) == [submitted["opportunity_id"]]
    assert await _listed(platform, "youssef", place.province) == [submitted["opportunity_id"]]
    [published] = await platform.published("OPPORTUNITIES", "OpportunityPublished")
    assert published["data"]["support_programmes"] == ["ma.mdm_invest", "ma.medma"]


async def test_an_accepted_interest_introduces_them_once_each_told_in_their_language(
    platform: Platform,
) -> None:
    opportunity, interest = await _open_with_interest(platform)

    [told] = await eventually(lambda: _inbox(platform, "aicha", "interest_expressed"))
    assert told["language"] == "ar" and "Youssef" in told["title"]
    accepted = await platform.call(
        "POST", f"/interests/{interest['interest_id']}/accept", "aicha", expect=200
    )
    assert accepted["status"] == "introduced"
    await platform.call("POST", f"/interests/{interest['interest_id']}/accept", "aicha", expect=409)

    [made] = await platform.published("OPPORTUNITIES", "IntroductionMade")
    assert (made["data"]["promoter_member_id"], made["data"]["member_id"]) == ("aicha", "youssef")
    [to_youssef] = await eventually(lambda: _inbox(platform, "youssef", "introduction_made"))
    [to_aicha] = await eventually(lambda: _inbox(platform, "aicha", "introduction_made"))
    assert (to_youssef["language"], to_aicha["language"]) == ("fr", "ar")
    assert "Aicha" in to_youssef["title"] and "Youssef" in to_aicha["title"]
    assert opportunity["opportunity_id"] == made["data"]["opportunity_id"]


CONVERSATIONS_INTRODUCE = IntroductionMade in load_services(["conversations"])[0].consumes


@pytest.mark.skipif(not CONVERSATIONS_INTRODUCE, reason="the conversations service does not open threads yet")
async def test_an_introduction_opens_one_thread_between_the_promoter_and_the_member(
    platform: Platform,
) -> None:
    _, interest = await _open_with_interest(platform)
    await platform.call("POST", f"/interests/{interest['interest_id']}/accept", "aicha", expect=200)

    async def threads() -> list[dict[str, Any]]:
        found = await platform.call("GET", "/threads", "youssef", params={"member_id": "youssef"}, expect=200)
        return [thread for thread in found if thread["context_kind"] == "introduction"]

    [thread] = await eventually(threads)
    assert {participant["member_id"] for participant in thread["participants"]} == {"aicha", "youssef"}
    assert await platform.call("GET", f"/threads/{thread['thread_id']}", "aicha", expect=200)


async def test_the_promoter_sees_a_card_without_contact_and_others_see_nothing(platform: Platform) -> None:
    opportunity, interest = await _open_with_interest(platform)
    path = f"/opportunities/{opportunity['opportunity_id']}/interests"

    async def desk() -> Any:
        response = await platform.http.get(path, headers=platform.as_("aicha"))
        cards = response.json()
        return response.text if cards and cards[0]["member"] is not None else None

    text = await eventually(desk)
    [card] = json.loads(text)
    assert card["member"] == {
        "display_name": "Youssef",
        "kind": "person",
        "country_of_residence": "BE",
        "languages": ["fr"],
    }
    assert "youssef@example.org" not in text and "@" not in text
    omars = await platform.call(
        "POST",
        "/opportunities",
        "omar",
        expect=201,
        json={**TAKEOVER, "territory_id": opportunity["territory_id"]},
    )
    await platform.call("GET", path, "omar", expect=403)  # another promoter's desk
    await platform.call("GET", f"/opportunities/{omars['opportunity_id']}/interests", "omar", expect=200)
    await platform.call("GET", path, "karim", expect=200)  # the reviewer
    await platform.call(
        "POST",
        f"/opportunities/{opportunity['opportunity_id']}/interests",
        "youssef",
        expect=409,
        json={"role": "lender"},
    )
    await platform.call("POST", f"/interests/{interest['interest_id']}/accept", "omar", expect=403)
    await platform.call("POST", f"/interests/{interest['interest_id']}/accept", "youssef", expect=403)


async def test_a_decline_tells_the_member_kindly_and_its_reason_is_in_no_event_nor_member_view(
    platform: Platform,
) -> None:
    opportunity, interest = await _open_with_interest(platform)
    declined = await platform.call(
        "POST",
        f"/interests/{interest['interest_id']}/decline",
        "aicha",
        expect=200,
        json={"reason_code": "amount", "note": "Trop peu pour le moulin"},
    )
    assert declined["status"] == "declined" and "decline_reason" not in declined
    [mine] = await platform.call("GET", "/interests", "youssef", params={"member_id": "youssef"}, expect=200)
    assert mine == declined
    await platform.call("GET", "/interests", "aicha", params={"member_id": "youssef"}, expect=403)

    [told] = await eventually(lambda: _inbox(platform, "youssef", "interest_declined"))
    events = json.dumps(await platform.events("OPPORTUNITIES"))
    assert "InterestDeclined" in events
    for secret in ('amount"', "Trop peu"):
        assert secret not in events and secret not in json.dumps(told)
    [on_desk] = await platform.call(
        "GET", f"/opportunities/{opportunity['opportunity_id']}/interests", "aicha", expect=200
    )
    assert on_desk["decline_reason"] == "amount"  # the promoter's own answer, on the promoter's desk
    await platform.call("DELETE", f"/interests/{interest['interest_id']}", "youssef", expect=409)


async def test_expiry_reminds_the_promoter_then_closes_the_opportunity_and_its_interests_once(
    platform: Platform,
) -> None:
    opportunity, interest = await _open_with_interest(platform)
    service = platform.services["opportunities"]
    expires = datetime.fromisoformat(opportunity["expires_on"]).replace(tzinfo=UTC)
    now = [expires - timedelta(days=10)]
    handlers = OpportunitiesHandlers(
        service.units(SqlOpportunitiesRepository),
        OpportunitiesSettings(),
        service.taxonomy,
        load_catalogue(),
        clock=lambda: now[0],
    )

    assert await handlers.remind_and_expire() == 1
    assert await handlers.remind_and_expire() == 0
    [reminder] = await eventually(lambda: _inbox(platform, "aicha", "opportunity_expiring"))
    assert reminder["language"] == "ar"
    now[0] = expires + timedelta(hours=1)
    assert await handlers.remind_and_expire() == 1
    assert await handlers.remind_and_expire() == 0

    [closed] = await platform.published("OPPORTUNITIES", "OpportunityClosed")
    assert closed["data"] == {"opportunity_id": opportunity["opportunity_id"], "outcome": "expired"}
    [ended] = await platform.published("OPPORTUNITIES", "InterestWithdrawn")
    assert (ended["data"]["interest_id"], ended["data"]["reason"]) == (interest["interest_id"], "expired")
    seen = await platform.call(
        "GET", f"/opportunities/{opportunity['opportunity_id']}", "youssef", expect=200
    )
    assert (seen["status"], seen["outcome"]) == ("closed", "expired")
    await platform.call("POST", f"/opportunities/{opportunity['opportunity_id']}/renew", "aicha", expect=409)


async def test_erasure_takes_the_members_interests_and_closes_what_they_promoted(platform: Platform) -> None:
    opportunity, _ = await _open_with_interest(platform)
    path = f"/opportunities/{opportunity['opportunity_id']}"
    await platform.call("DELETE", "/members/youssef", "youssef", expect=202)

    async def no_interest() -> bool:
        return await platform.call("GET", f"{path}/interests", "aicha", expect=200) == []

    await eventually(no_interest)
    await platform.call("DELETE", "/members/aicha", "aicha", expect=202)

    async def closed() -> Any:
        seen = await platform.call("GET", path, "omar", expect=200)
        return seen if seen["status"] == "closed" else None

    seen = await eventually(closed)
    assert (seen["outcome"], seen["promoter_member_id"]) == ("withdrawn", "erased")


async def test_the_support_programmes_name_mdm_invest_for_morocco(platform: Platform) -> None:
    found = await platform.call("GET", "/support-programmes", "youssef", params={"country": "MA"}, expect=200)
    assert "ma.mdm_invest" in [programme["code"] for programme in found]
    assert all(programme["country"] == "MA" for programme in found)
    await platform.call("GET", "/support-programmes", "youssef", params={"country": "ZZ"}, expect=422)


async def test_an_open_opportunity_is_news_once_for_attached_members_who_asked_for_opportunity_news(
    platform: Platform,
) -> None:
    place = await _territories(platform)
    await _people(platform, place)
    for sub, news in (
        ("youssef", {"opportunity_news": [place.province]}),
        ("omar", {"territory_news": [place.province]}),
    ):

        async def saved(sub: str = sub, news: dict[str, Any] = news) -> bool:
            response = await platform.http.put(
                f"/notification-preferences/{sub}", headers=platform.as_(sub), json=news
            )
            return response.status_code == 200

        await eventually(saved)  # once notifications knows the member
    opportunity = await _approved(platform, await _submitted(platform, place))

    [news] = await eventually(lambda: _inbox(platform, "youssef", "opportunity_published"))
    assert news["title"] == "Une nouvelle opportunité à Tafraout : Reprise de la coopérative oléicole"
    assert news["data"]["opportunity_id"] == opportunity["opportunity_id"]
    await eventually(lambda: platform.drained("OPPORTUNITIES", "notifications__OpportunityPublished_v1"))
    assert await _inbox(platform, "omar", "opportunity_published") == []
    assert await _inbox(platform, "aicha", "opportunity_published") == []
    assert len(await _inbox(platform, "youssef", "opportunity_published")) == 1


async def test_an_open_opportunitys_support_needs_are_matched_with_advisers_like_a_projects_needs(
    platform: Platform,
) -> None:
    place = await _territories(platform)
    await _people(platform, place)
    await offer(platform, "omar", "entrepreneurship.business_plan", level=4, mode="remote")
    opportunity = await _approved(platform, await _submitted(platform, place))

    [proposed] = await platform.published("MATCHING", "MatchProposed")
    assert (proposed["data"]["project_id"], proposed["data"]["member_id"]) == (
        opportunity["opportunity_id"],
        "omar",
    )
    assert proposed["data"]["need_id"] == opportunity["support_needs"][0]["need_id"]
    assert "skill_exact" in proposed["data"]["reasons"]
    [told] = await eventually(lambda: _inbox(platform, "omar", "match_proposed"))
    assert "Reprise de la coopérative oléicole" in told["title"]
    matches = await platform.call(
        "GET", "/matches", "aicha", params={"project_id": opportunity["opportunity_id"]}, expect=200
    )
    assert [match["member_id"] for match in matches] == ["omar"]

    await platform.call(
        "POST",
        f"/opportunities/{opportunity['opportunity_id']}/close",
        "aicha",
        expect=200,
        json={"outcome": "withdrawn"},
    )
    [withdrawn] = await platform.published("MATCHING", "MatchWithdrawn")
    assert withdrawn["data"]["reason"] == "project_closed"


async def test_every_endpoint_wants_a_token_and_bad_input_is_a_422_that_changes_nothing(
    platform: Platform,
) -> None:
    for method, path in [
        ("POST", "/opportunities"),
        ("GET", "/opportunities"),
        ("GET", "/opportunities/x"),
        ("PATCH", "/opportunities/x"),
        ("POST", "/opportunities/x/submit"),
        ("POST", "/opportunities/x/review"),
        ("POST", "/opportunities/x/interests"),
        ("GET", "/opportunities/x/interests"),
        ("POST", "/interests/x/accept"),
        ("POST", "/interests/x/decline"),
        ("DELETE", "/interests/x"),
        ("GET", "/support-programmes"),
    ]:
        response = await platform.http.request(method, path)
        assert response.status_code == 401, path
    place = await _territories(platform)
    await _people(platform, place)
    opportunity = await _approved(platform, await _submitted(platform, place))
    path = f"/opportunities/{opportunity['opportunity_id']}"
    for body, field in [
        ({**TAKEOVER, "territory_id": place.commune, "kind": "securities"}, "kind"),
        ({**TAKEOVER, "territory_id": place.commune, "amount_min": "9", "amount_max": "1"}, None),
        (
            {**TAKEOVER, "territory_id": place.commune, "support_programmes": ["xx.none"]},
            "support_programmes.0",
        ),
        ({**TAKEOVER, "territory_id": "nowhere"}, "territory_id"),
    ]:
        response = await platform.http.post("/opportunities", headers=platform.as_("aicha"), json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"
        if field is not None:
            assert field in response.text
    refused = await platform.http.post(
        f"{path}/interests", headers=platform.as_("youssef"), json={"role": "shareholder"}
    )
    assert refused.status_code == 422
    await platform.call("POST", f"{path}/review", "karim", expect=409, json={"decision": "approved"})
    found = await platform.call("GET", "/opportunities", "aicha", params={"status": "draft"}, expect=200)
    assert found == []
    names = [event["type"].split(".")[2] for event in await platform.events("OPPORTUNITIES")]
    assert names == ["OpportunitySubmitted", "OpportunityReviewed", "OpportunityPublished"]


async def test_the_same_idempotency_key_creates_one_opportunity_and_one_interest(platform: Platform) -> None:
    place = await _territories(platform)
    await _people(platform, place)
    body = {**TAKEOVER, "territory_id": place.commune}
    keyed = {**platform.as_("aicha"), "Idempotency-Key": "takeover-1"}

    async def created() -> Any:
        response = await platform.http.post("/opportunities", headers=keyed, json=body)
        return response if response.status_code == 201 else None

    first = await eventually(created)
    again = await platform.http.post("/opportunities", headers=keyed, json=body)
    assert (again.status_code, again.json()) == (201, first.json())
    other = await platform.http.post("/opportunities", headers=keyed, json={**body, "title": "Autre"})
    assert other.status_code == 422
    drafts = await platform.call("GET", "/opportunities", "aicha", params={"status": "draft"}, expect=200)
    assert [d["opportunity_id"] for d in drafts] == [first.json()["opportunity_id"]]

    path = f"/opportunities/{first.json()['opportunity_id']}"
    await platform.call("POST", f"{path}/submit", "aicha", expect=200)
    await _approved(platform, first.json())
    interested = {**platform.as_("youssef"), "Idempotency-Key": "interest-1"}
    answers = [
        await platform.http.post(f"{path}/interests", headers=interested, json={"role": "buyer"})
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201] and answers[0].json() == answers[1].json()
    assert len(await platform.published("OPPORTUNITIES", "InterestExpressed")) == 1
