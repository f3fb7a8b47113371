"""The members service through its HTTP API and its events, on the real NATS and PostgreSQL."""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from ..harness import Platform, eventually
from .scenario import profile

OFFER = {"skill": "energy.solar_pv_install", "level": 4, "modes": ["remote", "short_mission"]}


async def register(platform: Platform, sub: str, name: str, **extra: Any) -> dict[str, Any]:
    body = profile(name, extra.pop("territory_id", "tafraout"), **extra)
    return dict(await platform.call("POST", "/members", sub, expect=201, json=body))


async def test_every_kind_of_member_registers_with_its_attachments_and_every_field_is_published(
    platform: Platform,
) -> None:
    await register(
        platform,
        "youssef",
        "Youssef",
        attachments=[
            {"territory_id": "tafraout", "bond": "origin"},
            {"territory_id": "tiznit", "bond": "family"},
            {"territory_id": "kayes", "bond": "heart"},
        ],
        generation="second",
        languages=["fr", "ar", "nl"],
        sectors=["energy", "water"],
        locale="ar-MA",
        contact_consent=True,
    )
    association = await register(
        platform, "amina", "Tafraout Solidarité", kind="association", managers=["khadija"], generation=None
    )
    local_actor = await register(
        platform, "mayor", "Commune de Tafraout", kind="local_actor", country_of_residence="MA"
    )

    registered = await platform.published("MEMBERS", "MemberRegistered", count=3)
    assert len(registered) == 3
    youssef = next(e["data"] for e in registered if e["data"]["member_id"] == "youssef")
    assert {a["bond"] for a in youssef["attachments"]} == {"origin", "family", "heart"}
    assert youssef | {"attachments": None} == {
        "member_id": "youssef",
        "kind": "person",
        "display_name": "Youssef",
        "email": "youssef@example.org",
        "locale": "ar-MA",
        "country_of_residence": "BE",
        "time_zone": "Europe/Brussels",
        "languages": ["fr", "ar", "nl"],
        "attachments": None,
        "sectors": ["energy", "water"],
        "generation": "second",
        "managers": [],
        "contact_consent": True,
    }
    assert association["managers"] == ["amina", "khadija"] and association["member_id"] != "amina"
    assert local_actor["kind"] == "local_actor"


async def test_invalid_profiles_are_refused_naming_the_field_and_publish_nothing(platform: Platform) -> None:
    cases = [
        ({"languages": ["xx"]}, "languages.0"),
        ({"locale": "zz-MA"}, "locale"),
        ({"email": "not-an-email"}, "email"),
        ({"sectors": ["astrology"]}, "sectors"),
        ({"display_name": "x" * 201}, "display_name"),
        ({"attachments": [{"territory_id": "t", "bond": "cousin"}]}, "attachments.0.bond"),
        ({"managers": ["someone"]}, "managers"),
        ({"visibility": "everyone"}, "visibility"),
    ]
    for change, field in cases:
        response = await platform.http.post(
            "/members", headers=platform.as_("fatima"), json=profile("Fatima", "tafraout", **change)
        )
        assert response.status_code == 422, change
        assert field in {error["field"] for error in response.json()["errors"]}, response.json()
    assert (await platform.http.get("/members/fatima", headers=platform.as_("fatima"))).status_code == 404
    assert await platform.events("MEMBERS") == []


async def test_member_a_can_neither_read_change_export_nor_erase_member_b(platform: Platform) -> None:
    await register(platform, "fatima", "Fatima")
    await register(platform, "youssef", "Youssef")
    offer = await platform.call("POST", "/members/fatima/offers", "fatima", expect=201, json=OFFER)
    as_youssef = platform.as_("youssef")
    attempts = [
        ("GET", "/members/fatima", None),
        ("PATCH", "/members/fatima", {"display_name": "Hacked"}),
        ("GET", "/members/fatima/export", None),
        ("DELETE", "/members/fatima", None),
        ("GET", "/members/fatima/offers", None),
        ("POST", "/members/fatima/offers", OFFER),
        ("PATCH", f"/members/fatima/offers/{offer['offer_id']}", {"level": 1}),
        ("DELETE", f"/members/fatima/offers/{offer['offer_id']}", None),
    ]
    for method, path, body in attempts:
        response = await platform.http.request(method, path, headers=as_youssef, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    mine = await platform.call("GET", "/members/fatima", "fatima", expect=200)
    assert mine["display_name"] == "Fatima" and [s["level"] for s in mine["skills"]] == [4]
    assert await platform.call("GET", "/members/fatima", "operator-1", "operator", expect=200)


async def test_any_manager_of_an_association_acts_for_it_and_nobody_else_does(platform: Platform) -> None:
    association = await register(
        platform, "amina", "Tafraout Solidarité", kind="association", managers=["khadija"]
    )
    path = f"/members/{association['member_id']}"
    updated = await platform.call(
        "PATCH", path, "khadija", expect=200, json={"managers": ["amina", "khadija", "omar"]}
    )
    assert updated["managers"] == ["amina", "khadija", "omar"]
    await platform.call("POST", f"{path}/offers", "omar", expect=201, json=OFFER)
    assert (
        await platform.http.patch(path, headers=platform.as_("stranger"), json={"display_name": "x"})
    ).status_code == 403
    emptied = await platform.http.patch(path, headers=platform.as_("amina"), json={"managers": []})
    assert emptied.status_code == 422 and emptied.json()["errors"][0]["field"] == "managers"


async def test_offers_are_listed_updated_and_withdrawn_each_with_its_event(platform: Platform) -> None:
    await register(platform, "fatima", "Fatima")
    offer = await platform.call(
        "POST",
        "/members/fatima/offers",
        "fatima",
        expect=201,
        json={
            **OFFER,
            "available_from": "2027-01-01",
            "available_until": "2027-06-30",
            "hours_per_month": 20,
        },
    )
    offer_path = f"/members/fatima/offers/{offer['offer_id']}"
    changed = await platform.call(
        "PATCH", offer_path, "fatima", expect=200, json={"level": 5, "modes": ["mentoring"]}
    )
    assert (changed["level"], changed["modes"], changed["hours_per_month"]) == (5, ["mentoring"], 20)
    await platform.call("DELETE", offer_path, "fatima", expect=204)
    await platform.call("DELETE", offer_path, "fatima", expect=204)  # withdrawing twice changes nothing
    listed = await platform.call("GET", "/members/fatima/offers", "fatima", expect=200)
    assert [(o["offer_id"], o["withdrawn"]) for o in listed] == [(offer["offer_id"], True)]
    refused = await platform.http.patch(offer_path, headers=platform.as_("fatima"), json={"level": 3})
    assert refused.status_code == 409

    async def offer_events() -> list[str]:
        types = [
            e["type"].split(".")[2] for e in await platform.events("MEMBERS") if e["subject"] == "fatima"
        ]
        return types if len(types) == 4 else []

    assert await eventually(offer_events) == [
        "MemberRegistered",
        "SkillOffered",
        "SkillOfferUpdated",
        "SkillOfferWithdrawn",
    ]
    updated = (await platform.published("MEMBERS", "SkillOfferUpdated"))[0]["data"]
    assert (updated["offer_id"], updated["level"], updated["available_until"]) == (
        offer["offer_id"],
        5,
        "2027-06-30",
    )


async def test_an_unknown_skill_or_an_inverted_availability_window_is_refused(platform: Platform) -> None:
    await register(platform, "fatima", "Fatima")
    for body, field in [
        ({**OFFER, "skill": "energy.perpetual_motion"}, "skill"),
        ({**OFFER, "level": 6}, "level"),
        ({**OFFER, "modes": ["teleportation"]}, "modes.0"),
        ({**OFFER, "available_from": "2027-06-01", "available_until": "2027-01-01"}, "available_until"),
        ({**OFFER, "sectors": ["astrology"]}, "sectors"),
    ]:
        response = await platform.http.post(
            "/members/fatima/offers", headers=platform.as_("fatima"), json=body
        )
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == field
    assert await platform.call("GET", "/members/fatima/offers", "fatima", expect=200) == []


async def test_managers_find_the_diaspora_of_a_territory_by_bond_skill_language_and_country(
    platform: Platform,
) -> None:
    await register(platform, "fatima", "Fatima", contact_consent=True)
    await register(
        platform, "youssef", "Youssef", territory_id="tafraout", bond="family", languages=["ar", "nl"]
    )
    await register(
        platform,
        "claire",
        "Claire",
        bond="heart",
        visibility="public",
        country_of_residence="FR",
        time_zone="Europe/Paris",
    )
    await register(platform, "hidden", "Hidden", visibility="private")
    await register(platform, "elsewhere", "Elsewhere", territory_id="kayes")
    await platform.call("POST", "/members/youssef/offers", "youssef", expect=201, json=OFFER)

    async def find(sub: str, role: str, **params: Any) -> list[dict[str, Any]]:
        return list(await platform.call("GET", "/members", sub, role, params=params, expect=200))

    def names(page: list[dict[str, Any]]) -> list[str]:
        return [item["display_name"] for item in page]

    manager = ("zineb", "territory_manager")
    assert names(await find(*manager, territory_id="tafraout")) == ["Claire", "Fatima", "Youssef"]
    assert names(await find(*manager, territory_id="tafraout", bond="heart")) == ["Claire"]
    assert names(await find(*manager, skill="energy.solar")) == ["Youssef"], "narrower skills count"
    assert names(await find(*manager, language="nl")) == ["Youssef"]
    assert names(await find(*manager, country="FR")) == ["Claire"]
    assert "Hidden" in names(await find("op", "operator", limit=100))

    first = await platform.http.get(
        "/members", params={"territory_id": "tafraout", "limit": 2}, headers=platform.as_(*manager)
    )
    assert names(first.json()) == ["Claire", "Fatima"] and first.headers["x-total-count"] == "3"
    following = first.headers["link"].split(";")[0].strip("<>")
    second = await platform.http.get(following, headers=platform.as_(*manager))
    assert names(second.json()) == ["Youssef"] and "link" not in second.headers

    cards = {item["display_name"]: item for item in await find(*manager, territory_id="tafraout")}
    assert cards["Fatima"]["email"] == "fatima@example.org", "she consented to be contacted"
    assert cards["Youssef"]["email"] is None and cards["Youssef"]["view"] == "card"
    assert cards["Youssef"]["skills"][0]["label"] == "installation de panneaux solaires"

    assert names(await find("someone", "member", territory_id="tafraout")) == ["Claire"], (
        "only public profiles"
    )
    hidden = await platform.http.get("/members/hidden", headers=platform.as_("zineb", "community_manager"))
    assert hidden.status_code == 403
    unknown = await platform.http.get("/members", params={"skill": "nope"}, headers=platform.as_(*manager))
    assert unknown.status_code == 422


async def test_the_export_holds_the_profile_offers_consents_and_history(platform: Platform) -> None:
    await register(platform, "fatima", "Fatima")
    offer = await platform.call("POST", "/members/fatima/offers", "fatima", expect=201, json=OFFER)
    await platform.call("PATCH", "/members/fatima", "fatima", expect=200, json={"contact_consent": True})
    await platform.call("PATCH", "/members/fatima", "fatima", expect=200, json={"contact_consent": False})
    await platform.call("DELETE", f"/members/fatima/offers/{offer['offer_id']}", "fatima", expect=204)

    response = await platform.http.get("/members/fatima/export", headers=platform.as_("fatima"))
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    exported = response.json()
    assert exported["member"]["email"] == "fatima@example.org" and exported["member"]["registered_at"]
    assert [(o["skill"], o["withdrawn"]) for o in exported["offers"]] == [("energy.solar_pv_install", True)]
    assert [c["given"] for c in exported["consents"]] == [True, False]
    assert all(c["at"] for c in exported["consents"])
    assert [h["action"] for h in exported["history"]] == [
        "registered",
        "skill_offered",
        "profile_updated",
        "contact_consent_given",
        "profile_updated",
        "contact_consent_withdrawn",
        "skill_offer_withdrawn",
    ]


async def test_erasure_leaves_no_personal_data_publishes_member_erased_once_and_the_member_is_gone(
    platform: Platform,
) -> None:
    await register(platform, "fatima", "Fatima Zahra", contact_consent=True)
    await platform.call("POST", "/members/fatima/offers", "fatima", expect=201, json=OFFER)
    await platform.call("PATCH", "/members/fatima", "fatima", expect=200, json={"display_name": "Fatima Z."})

    assert await platform.call("DELETE", "/members/fatima", "fatima", expect=202) == {
        "member_id": "fatima",
        "status": "erased",
    }
    await platform.call("DELETE", "/members/fatima", "fatima", expect=202)  # idempotent
    for method, path in [
        ("GET", "/members/fatima"),
        ("GET", "/members/fatima/export"),
        ("GET", "/members/fatima/offers"),
    ]:
        assert (await platform.http.request(method, path, headers=platform.as_("fatima"))).status_code == 404
    again = await platform.http.post(
        "/members", headers=platform.as_("fatima"), json=profile("Fatima", "tafraout")
    )
    assert again.status_code == 409

    erased = await platform.published("MEMBERS", "MemberErased")
    assert [e["data"] for e in erased] == [{"member_id": "fatima"}]

    async def rows_mentioning(*needles: str) -> list[str]:
        url = make_url(platform.database_urls["members"])
        connection = await asyncpg.connect(
            host=url.host, port=url.port, user=url.username, password=url.password, database=url.database
        )
        try:
            tables = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            found = []
            for table in tables:
                for row in await connection.fetch(f'SELECT t::text AS row FROM "{table["tablename"]}" t'):
                    found += [row["row"] for needle in needles if needle in row["row"]]
            return found
        finally:
            await connection.close()

    async def no_personal_data_left() -> bool:
        return await rows_mentioning("Fatima", "fatima@example.org", "Europe/Brussels", "solar") == []

    await eventually(no_personal_data_left)  # the outbox empties as the relay publishes


async def test_the_skill_taxonomy_is_searched_in_the_callers_language(platform: Platform) -> None:
    found = await platform.call("GET", "/skills", "fatima", params={"q": "infirm", "lang": "fr"}, expect=200)
    assert [item["code"] for item in found][:2] == ["health.nursing", "health.nurse_training"]
    assert found[0]["label"] == "soins infirmiers"
    arabic = await platform.call(
        "GET", "/skills", "fatima", params={"q": "الشمسية", "lang": "ar"}, expect=200
    )
    assert "energy.solar" in {item["code"] for item in arabic}
    solar = await platform.call("GET", "/skills/energy.solar", "fatima", expect=200)
    assert "energy.solar_pv_install" in solar["narrower"] and solar["esco_uri"].startswith(
        "http://data.europa.eu/esco/"
    )
    assert (
        await platform.http.get("/skills/no.such.skill", headers=platform.as_("fatima"))
    ).status_code == 404
    assert (await platform.http.get("/skills")).status_code == 401


async def test_an_erased_manager_no_longer_manages_and_leaves_no_trace_in_the_association(
    platform: Platform,
) -> None:
    association = await register(
        platform, "amina", "Tafraout Solidarité", kind="association", managers=["khadija"]
    )
    path = f"/members/{association['member_id']}"
    await platform.call("PATCH", path, "amina", expect=200, json={"display_name": "Tafraout Solidarité asbl"})
    await register(platform, "khadija", "Khadija")

    await platform.call("DELETE", "/members/khadija", "khadija", expect=202)

    assert (await platform.call("GET", path, "amina", expect=200))["managers"] == ["amina"]
    assert (
        await platform.http.patch(path, headers=platform.as_("khadija"), json={"display_name": "x"})
    ).status_code == 403
    updated = await platform.published("MEMBERS", "MemberProfileUpdated", count=2)
    assert updated[-1]["data"]["managers"] == ["amina"], "other services learn who still manages it"
    await register(platform, "amina", "Amina")
    await platform.call("DELETE", "/members/amina", "amina", expect=202)
    history = (await platform.call("GET", f"{path}/export", "op", "operator", expect=200))["history"]
    assert {entry["details"].get("by") for entry in history} == {"erased"}


async def test_an_association_cannot_manage_another_so_two_associations_never_wait_on_each_other(
    platform: Platform,
) -> None:
    first = await register(platform, "amina", "Tafraout Solidarité", kind="association")
    second = await register(platform, "khadija", "Kayes Avenir", kind="association")
    for member, manager in ((first, second), (second, first)):
        refused = await platform.http.patch(
            f"/members/{member['member_id']}",
            headers=platform.as_("op", "operator"),
            json={"managers": [member["managers"][0], manager["member_id"]]},
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "managers"
    named = await platform.http.post(
        "/members",
        headers=platform.as_("omar"),
        json=profile("Omar Conseil", "tafraout", kind="local_actor", managers=[first["member_id"]]),
    )
    assert named.status_code == 422, "an association manages no one from its registration either"
    again = await platform.call("GET", f"/members/{first['member_id']}", "amina", expect=200)
    assert again["managers"] == ["amina"]
