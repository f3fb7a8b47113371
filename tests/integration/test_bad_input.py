"""Bad input is a clear 4xx problem+json that changes nothing, never a 500 that commits: explicit
nulls, NUL bytes, lone surrogates, line breaks where they make no sense, values longer than their
columns, codes in the wrong case, digits of other scripts, totals that would overflow, races."""

import asyncio
from typing import Any

import asyncpg
import httpx
import jwt
from sqlalchemy.engine import make_url

from ..harness import Platform, eventually
from .scenario import name_manager, profile, territory

SOLAR = "energy.solar_pv_design"


def is_problem(response: httpx.Response, *statuses: int) -> bool:
    return (
        response.status_code in statuses
        and response.headers["content-type"] == "application/problem+json"
        and response.json()["status"] == response.status_code
    )


async def funded_project(platform: Platform, owner: str = "amina", currency: str = "EUR") -> str:
    tafraout = await territory(platform)
    await name_manager(platform, tafraout, owner)
    created = await platform.call(
        "POST",
        "/projects",
        owner,
        expect=201,
        json={
            "territory_id": tafraout,
            "title": "Solar health post",
            "summary": "Power the health post.",
            "sector": "energy",
            "languages": ["fr"],
            "needs": [{"skill": SOLAR, "min_level": 3, "mode": "remote"}],
            "funding": {"goal_amount": "1000.00", "currency": currency},
        },
    )
    project_id = str(created["project_id"])
    await platform.call("POST", f"/projects/{project_id}/publish", owner, expect=200)
    return project_id


async def raw_json(platform: Platform, method: str, path: str, sub: str, text: str) -> httpx.Response:
    """A body written by hand, so that it can hold the escapes \\u0000 and lone \\ud800."""
    headers = {**platform.as_(sub), "content-type": "application/json"}
    return await platform.http.request(method, path, headers=headers, content=text.encode())


async def test_an_explicit_null_for_a_required_field_is_a_422_and_the_project_stays_readable(
    platform: Platform,
) -> None:
    project_id = await funded_project(platform)
    path = f"/projects/{project_id}"
    before = await platform.events("PROJECTS")
    for field in ("languages", "title", "summary", "sector", "needs", "territory_id"):
        response = await platform.http.patch(path, headers=platform.as_("amina"), json={field: None})
        assert is_problem(response, 422), (field, response.text)
        assert response.json()["errors"][0]["field"] == field
    assert (await platform.call("GET", path, "amina", expect=200))["languages"] == ["fr"]
    edited = await platform.call("PATCH", path, "amina", expect=200, json={"title": "Solar clinic"})
    assert edited["title"] == "Solar clinic"

    async def relayed() -> bool:  # the relay publishes after the answer
        return len(await platform.events("PROJECTS")) >= len(before) + 1

    await eventually(relayed)


async def test_an_explicit_null_in_a_profile_or_offer_update_is_a_422_that_changes_nothing(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    await platform.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", tafraout))
    offer = await platform.call(
        "POST",
        "/members/fatima/offers",
        "fatima",
        expect=201,
        json={"skill": SOLAR, "level": 3, "modes": ["remote"]},
    )
    for field in (
        "display_name",
        "email",
        "locale",
        "languages",
        "attachments",
        "visibility",
        "contact_consent",
    ):
        response = await platform.http.patch(
            "/members/fatima", headers=platform.as_("fatima"), json={field: None}
        )
        assert is_problem(response, 422), (field, response.text)
    offer_path = f"/members/fatima/offers/{offer['offer_id']}"
    for field in ("skill", "level", "modes", "languages"):
        response = await platform.http.patch(offer_path, headers=platform.as_("fatima"), json={field: None})
        assert is_problem(response, 422), (field, response.text)
    member = await platform.call("GET", "/members/fatima", "fatima", expect=200)
    assert member["display_name"] == "Fatima" and member["languages"] == ["fr"]
    cleared = await platform.call("PATCH", "/members/fatima", "fatima", expect=200, json={"generation": None})
    assert cleared["generation"] is None


async def test_nul_bytes_and_lone_surrogates_in_any_field_are_a_422_that_stores_nothing(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    for poison in ("\\u0000", "\\ud800", "\\udfff"):
        for field in ("display_name", "email", "locale", "time_zone"):
            body = (
                '{"kind": "person", "display_name": "Fatima", "email": "f@example.org", "locale": "fr",'
                f' "country_of_residence": "BE", "time_zone": "Europe/Brussels", "languages": ["fr"],'
                f' "attachments": [{{"territory_id": "{tafraout}", "bond": "origin"}}],'
                ' "sectors": ["energy"]}'
            ).replace(f'"{field}": "', f'"{field}": "a{poison}')
            response = await raw_json(platform, "POST", "/members", "fatima", body)
            assert is_problem(response, 422), (poison, field, response.text)
        for body in (
            f'{{"name": "Tafraout{poison}", "country": "MA", "level": "commune"}}',
            f'{{"name": "Tafraout", "country": "MA", "level": "commune", "parent_id": "x{poison}"}}',
        ):
            headers = {**platform.as_("ops", "operator"), "content-type": "application/json"}
            response = await platform.http.post("/territories", headers=headers, content=body.encode())
            assert is_problem(response, 422), (poison, body, response.text)
    assert (await platform.http.get("/members/fatima", headers=platform.as_("fatima"))).status_code == 404
    assert await platform.events("MEMBERS") == []


async def test_a_project_s_text_refuses_line_breaks_in_one_line_fields_and_keeps_them_in_its_summary(
    platform: Platform,
) -> None:
    project_id = await funded_project(platform)
    path = f"/projects/{project_id}"
    for title in ("Solar\u2028clinic", "Solar\nclinic", "Solar\x85clinic", "Solar\x1bclinic", "a\x00"):
        response = await platform.http.patch(path, headers=platform.as_("amina"), json={"title": title})
        assert is_problem(response, 422), (title, response.text)
    edited = await platform.call(
        "PATCH", path, "amina", expect=200, json={"summary": "First line.\r\nSecond\u2028third."}
    )
    assert edited["summary"] == "First line.\nSecond\nthird."
    assert (await platform.call("GET", path, "amina", expect=200))["title"] == "Solar health post"


async def test_paths_and_query_strings_with_nul_or_control_characters_are_a_400_before_any_handler(
    platform: Platform,
) -> None:
    for path in (
        "/members/fatima%00",
        "/projects/a%0Ab",
        "/projects?sector=%00",
        "/members?territory_id=%E2%80%A8",
        "/skills?q=solar%00",
        "/matches?member_id=%1B",
        "/notifications?member_id=a%00",
    ):
        response = await platform.http.get(path, headers=platform.as_("ops", "operator"))
        assert is_problem(response, 400), (path, response.text)


async def test_a_sub_longer_than_its_column_and_roles_of_the_wrong_type_get_a_problem_json(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    secret = platform.settings.jwt_secret
    assert secret is not None
    # Signed by hand: the development issuer itself refuses such a subject.
    long_token = jwt.encode(
        {"sub": "s" * 300, "roles": ["member"], "exp": 4_000_000_000},
        secret.get_secret_value(),
        algorithm="HS256",
    )
    long_sub = {"Authorization": f"Bearer {long_token}"}
    response = await platform.http.post("/members", headers=long_sub, json=profile("Long", tafraout))
    assert is_problem(response, 401), response.text
    for roles in (123, {"operator": True}, [["operator"]]):
        token = jwt.encode(
            {"sub": "odd", "roles": roles, "exp": 4_000_000_000}, secret.get_secret_value(), algorithm="HS256"
        )
        response = await platform.http.get("/territories", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200 or is_problem(response, response.status_code), response.text
        assert "Traceback" not in response.text
    assert await platform.events("MEMBERS") == []


async def test_concurrent_registrations_of_one_identity_give_one_201_and_409s(platform: Platform) -> None:
    tafraout = await territory(platform)
    responses = await asyncio.gather(
        *(
            platform.http.post("/members", headers=platform.as_("twin"), json=profile("Twin", tafraout))
            for _ in range(8)
        )
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 7, [r.text for r in responses]
    assert all(is_problem(response, 409) for response in responses if response.status_code != 201)
    assert len(await platform.published("MEMBERS", "MemberRegistered")) == 1


async def test_codes_in_lower_case_are_stored_and_published_the_one_way_the_contract_says(
    platform: Platform,
) -> None:
    project_id = await funded_project(platform, currency="eur")
    project = await platform.call("GET", f"/projects/{project_id}", "amina", expect=200)
    assert project["funding"]["currency"] == "EUR"
    pledged = await platform.call(
        "POST",
        f"/projects/{project_id}/pledges",
        "donor",
        expect=201,
        json={"amount": "10", "currency": "eur"},
    )
    assert pledged["currency"] == "EUR"
    published = await platform.published("PROJECTS", "ProjectPublished")
    assert published[0]["data"]["funding"]["currency"] == "EUR"
    tafraout = project["territory_id"]
    member = await platform.call(
        "POST",
        "/members",
        "youssef",
        expect=201,
        json=profile("Youssef", tafraout, country_of_residence="be", languages=["FR", "ar"], locale="AR-ma"),
    )
    assert (member["country_of_residence"], member["languages"], member["locale"]) == (
        "BE",
        ["fr", "ar"],
        "ar-ma",
    )
    registered = (await platform.published("MEMBERS", "MemberRegistered"))[0]["data"]
    assert registered["country_of_residence"] == "BE" and registered["languages"] == ["fr", "ar"]


async def test_amounts_in_digits_of_other_scripts_or_beyond_the_bound_are_a_422(platform: Platform) -> None:
    project_id = await funded_project(platform)
    path = f"/projects/{project_id}/pledges"
    for amount in ("\u0661\u0662", "\uff11\uff12", "\u0967\u0968.50", "9999999999999.99", "1000000000.01"):
        response = await platform.http.post(path, headers=platform.as_("donor"), json={"amount": amount})
        assert is_problem(response, 422), (amount, response.text)
    for goal in ("\u0661000", "99999999999999"):
        response = await platform.http.patch(
            f"/projects/{project_id}",
            headers=platform.as_("amina"),
            json={"funding": {"goal_amount": goal, "currency": "EUR"}},
        )
        assert is_problem(response, 422), (goal, response.text)
    seen = await platform.call("GET", f"/projects/{project_id}", "amina", expect=200)
    assert seen["pledged_total"] == "0.00" and seen["funding"]["goal_amount"] == "1000.00"


async def _set_total(platform: Platform, project_id: str, total: str) -> None:
    url = make_url(platform.database_urls["projects"])
    connection = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, database=url.database
    )
    try:
        await connection.execute(
            "UPDATE projects SET pledged_total = $1::numeric WHERE project_id = $2", total, project_id
        )
    finally:
        await connection.close()


async def test_a_pledge_that_would_overflow_the_total_is_refused_and_changes_nothing(
    platform: Platform,
) -> None:
    project_id = await funded_project(platform)
    await _set_total(platform, project_id, "9999999999000.00")
    response = await platform.http.post(
        f"/projects/{project_id}/pledges", headers=platform.as_("donor"), json={"amount": "1000000000"}
    )
    assert is_problem(response, 422), response.text
    seen: dict[str, Any] = await platform.call("GET", f"/projects/{project_id}", "amina", expect=200)
    assert seen["pledged_total"] == "9999999999000.00" and seen["pledges"] == []
    assert not [e for e in await platform.events("PROJECTS") if "Pledge" in e["type"]]
    ok = await platform.http.post(
        f"/projects/{project_id}/pledges", headers=platform.as_("donor"), json={"amount": "999.99"}
    )
    assert ok.status_code == 201, ok.text
