"""Opportunities in Chromium with JavaScript off: a manager approves a submitted takeover from the
review queue; an investor from Brussels finds it on Tafraout's home, reads its disclaimer and the
programmes it names, and expresses interest; the promoter, on the desk, sees a card without any
e-mail and accepts; the investor sees they are introduced. In Arabic, the pages read right to left."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, BrowserContext

from ..harness import eventually
from ..integration.scenario import name_manager, profile
from .browsing import open_context, reload_until, sign_in, within_budget
from .conftest import Site

TAKEOVER: dict[str, Any] = {
    "kind": "business_takeover",
    "sector": "agriculture",
    "title": "Reprise du moulin de la coopérative oléicole",
    "summary": "Les fondateurs partent à la retraite : le moulin et ses 40 membres cherchent repreneur.",
    "language": "fr",
    "amount_min": "80000",
    "amount_max": "150000",
    "currency": "EUR",
    "instruments": ["equity", "loan"],
    "stage": "operating",
    "support_programmes": ["ma.mdm_invest"],
}


async def test_an_opportunity_is_reviewed_found_and_ends_in_an_introduction_in_a_browser(
    site: Site, browser: Browser, contexts: list[BrowserContext]
) -> None:
    platform = site.platform
    created = await platform.call(
        "POST",
        "/territories",
        "operator-1",
        "operator",
        expect=201,
        json={"name": "Tafraout", "country": "MA", "level": "commune"},
    )
    tafraout = created["territory_id"]
    await name_manager(platform, tafraout, "rachid")
    for sub, body in (
        ("brahim", profile("Brahim", tafraout, country_of_residence="MA", time_zone="Africa/Casablanca")),
        ("leila", profile("Leila", tafraout, bond="family")),
        (
            "rachid",
            profile(
                "Rachid", tafraout, locale="ar", country_of_residence="MA", time_zone="Africa/Casablanca"
            ),
        ),
    ):
        await platform.call("POST", "/members", sub, expect=201, json=body)

    async def submitted() -> Any:
        response = await platform.http.post(
            "/opportunities", headers=platform.as_("brahim"), json={**TAKEOVER, "territory_id": tafraout}
        )
        return response.json() if response.status_code == 201 else None

    opportunity = await eventually(submitted)
    path = f"/app/o/{opportunity['opportunity_id']}"
    await platform.call(
        "POST", f"/opportunities/{opportunity['opportunity_id']}/submit", "brahim", expect=200
    )

    leila = await open_context(browser, contexts, site.url)
    await sign_in(leila, "leila")
    assert (await leila.goto(path)).status == 404  # type: ignore[union-attr]

    rachid = await open_context(browser, contexts, site.url, locale="ar")
    await sign_in(rachid, "rachid", "territory_manager")
    await reload_until(rachid, "/app/review", 'button[name="action"][value="approved"]')
    assert await rachid.locator("html").get_attribute("dir") == "rtl"
    assert await rachid.locator(".age").count() == 1
    await within_budget(rachid, "/app/review")
    await rachid.click('button[name="action"][value="approved"]')
    assert "reviewed=approved" in rachid.url

    await leila.goto(f"/app/t/{tafraout}")
    await leila.click(f'a[href="{path}"]')
    text = await leila.locator("main").inner_text()
    assert "MDM Invest" in text and "indicatifs" in await leila.locator("#disclaimer").inner_text()
    await within_budget(leila, path)
    await leila.select_option('[name="role"]', "investor")
    await leila.fill('[name="message"]', "Je vis à Bruxelles et je souhaite investir à Tafraout.")
    await leila.click('button[name="action"][value="interest"]')
    assert "interested=1" in leila.url
    assert "En attente du porteur" in await leila.locator("#interest-status").inner_text()

    brahim = await open_context(browser, contexts, site.url)
    await sign_in(brahim, "brahim")
    desk = f"{path}/desk"
    await reload_until(brahim, desk, 'button[name="action"][value="accept"]')
    card = await brahim.locator("main").inner_text()
    assert "Leila" in card and "@" not in card, "the promoter sees a card, never an e-mail"
    await within_budget(brahim, desk)
    await brahim.click('button[name="action"][value="accept"]')
    assert "Mis en relation" in await brahim.locator("main").inner_text()

    await leila.goto(path)
    assert "Mis en relation" in await leila.locator("#interest-status").inner_text()
    await leila.goto("/app/o")
    assert await leila.locator(f'a[href="{path}"]').count() == 1
    assert (await leila.goto(desk)).status == 403  # type: ignore[union-attr]
