"""Ideas in Chromium with JavaScript off: a member posts an idea for Tafraout's plan, another
supports it from the Arabic portal, the plan ranks it with its bond and residence bars, and a
manager answers it from the desk that others may not open."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from playwright.async_api import Browser, BrowserContext
from portal.i18n import Speech

from ..harness import eventually
from ..integration.ideas_scenario import phases
from ..integration.scenario import name_manager, profile, territory
from .browsing import open_context, sign_in
from .conftest import Site


async def test_an_idea_is_posted_supported_ranked_and_answered_in_a_browser_without_javascript(
    site: Site, browser: Browser, contexts: list[BrowserContext]
) -> None:
    platform = site.platform
    tafraout = await territory(platform, "Tafraout")
    await name_manager(platform, tafraout, "omar-ideas")
    for sub, body in (
        ("samira", profile("Samira", tafraout, "origin")),
        ("ider", profile("Ider", tafraout, "family", country_of_residence="MA", locale="ar")),
    ):
        await platform.call("POST", "/members", sub, expect=201, json=body)
    plan_body = {
        "territory_id": tafraout,
        "title": "Plan de Tafraout",
        "period_from": "2027-01-01",
        "period_to": "2032-12-31",
        "axes": [{"title": "Eau et énergie"}],
        "phases": phases(datetime.now(UTC).date()),
    }

    async def plan_made() -> Any:  # ideas learns of the territory and its manager in a moment
        answer = await platform.http.post("/plans", headers=platform.as_("omar-ideas"), json=plan_body)
        return answer.json() if answer.status_code == 201 else None

    plan = await eventually(plan_made)
    await platform.call("POST", f"/plans/{plan['plan_id']}/publish", "omar-ideas", expect=200)

    samira = await open_context(browser, contexts, site.url)
    await sign_in(samira, "samira")
    await samira.goto(f"/app/t/{tafraout}")
    await samira.click(f'a[href="/app/t/{tafraout}/plans"]')
    await samira.click(f'a[href="/app/plans/{plan["plan_id"]}"]')
    assert "idées (en cours)" in await samira.locator("main").inner_text()

    async def posted() -> bool:  # ideas learns of the member in a moment
        await samira.goto(f"/app/plans/{plan['plan_id']}")
        await samira.click('a:has-text("Proposer une idée pour ce plan")')
        await samira.select_option('[name="axis_id"]', plan["axes"][0]["axis_id"])
        await samira.fill('[name="title"]', "Pompes solaires pour la palmeraie")
        await samira.fill('[name="body"]', "Pomper les puits au soleil plutôt qu'au gasoil.")
        await samira.click('button[name="action"][value="post"]')
        return "done=posted" in samira.url

    await eventually(posted, timeout=30, interval=0.5)
    idea_path = samira.url.split("?")[0].removeprefix(site.url)

    ider = await open_context(browser, contexts, site.url, locale="ar-MA")
    await sign_in(ider, "ider")
    await ider.goto("/app/language/ar?next=" + idea_path)

    async def supported() -> bool:
        await ider.goto(idea_path)
        await ider.click('button[name="action"][value="support"]')
        return "done=support" in ider.url

    await eventually(supported, timeout=30, interval=0.5)
    assert await ider.locator("html").get_attribute("dir") == "rtl"
    assert "دعم واحد" in await ider.locator("main").inner_text()

    await samira.goto(f"/app/plans/{plan['plan_id']}")
    ranked = samira.locator("section.card li", has_text="Pompes solaires")
    assert "1 soutien" in await ranked.inner_text()
    family = ranked.locator(f'progress[aria-label="{Speech("fr").word("bond", "family")}"]')
    assert (await family.get_attribute("value"), await family.get_attribute("max")) == ("1", "1")
    in_country = ranked.locator('progress[aria-label="au pays"]')
    assert await in_country.get_attribute("value") == "1"

    refused = await samira.goto(f"/app/t/{tafraout}/ideas-desk")
    assert refused is not None and refused.status == 403, "the desk is for the territory's managers"

    omar = await open_context(browser, contexts, site.url)
    await sign_in(omar, "omar-ideas", "territory_manager")
    await omar.goto(f"/app/t/{tafraout}/ideas-desk")
    await omar.select_option('[name="status"]', "accepted")
    await omar.fill('[name="answer"]', "La commune finance deux pompes en 2027.")
    await omar.click('button[name="action"][value="answer"]')
    main = await omar.locator("main").inner_text()
    assert "La commune finance deux pompes en 2027." in main and "retenue" in main
