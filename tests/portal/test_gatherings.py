"""A gathering in Chromium with JavaScript off, on a 360 px phone: a member finds it on the
territory's home, sees its time at the venue and for them, registers; the next one waits (in
Arabic, right to left), is promoted when the first cancels, and is checked in by code on the
organiser's desk, where a wrong code is refused; the desk is a 403 page for anyone else. Its people
have names of their own: the site is shared with the main story."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.async_api import Browser, BrowserContext

from ..integration.scenario import profile, territory
from ..integration.test_gatherings import published, session
from .browsing import open_context, reload_until, sign_in, within_budget
from .conftest import Site

# Next July, 17:00 UTC: 18:00 in Tafraout, 19:00 in Brussels.
YEAR = datetime.now(UTC).year + 1
STARTS = datetime(YEAR, 7, 14, 17, 0, tzinfo=UTC)


async def test_a_member_registers_waits_is_promoted_and_is_checked_in_in_a_browser_without_javascript(
    site: Site, browser: Browser, contexts: list[BrowserContext]
) -> None:
    platform = site.platform
    tafraout = await territory(platform, "Tafraout")
    for sub, extra in (
        ("nadia", {}),
        ("karim", {}),
        ("salma", {"locale": "ar", "time_zone": "Africa/Casablanca", "country_of_residence": "MA"}),
    ):
        await platform.call(
            "POST", "/members", sub, expect=201, json=profile(sub.capitalize(), tafraout, **extra)
        )
    times = {"starts_at": STARTS.isoformat(), "ends_at": (STARTS + timedelta(hours=2)).isoformat()}
    gathering = await published(platform, "nadia", session(tafraout, capacity=1, **times))
    path = f"/app/g/{gathering['gathering_id']}"

    karim = await open_context(browser, contexts, site.url)
    await sign_in(karim, "karim")
    await karim.goto(f"/app/t/{tafraout}")
    await karim.click(f'a[href="{path}"]')
    text = await karim.locator("main").inner_text()
    assert "18:00 à Tafraout" in text and "19:00 pour vous" in text, text
    await within_budget(karim, path)
    await karim.click('button[name="action"][value="register"]')
    assert karim.url.endswith(path)
    assert "Votre inscription : confirmée" in await karim.locator("main").inner_text()
    karim_code = (await karim.locator("strong.code").inner_text()).strip()

    salma = await open_context(browser, contexts, site.url, locale="ar")
    await sign_in(salma, "salma")
    await salma.goto(path)
    assert await salma.locator("html").get_attribute("dir") == "rtl"
    assert "19:00" not in await salma.locator("main").inner_text(), "her clock is the venue's: one time"
    await salma.click('button[name="action"][value="register"]')
    assert "في قائمة الانتظار" in await salma.locator("main").inner_text()

    nadia = await open_context(browser, contexts, site.url)
    await sign_in(nadia, "nadia")
    desk = f"{path}/desk"
    refused = await karim.goto(desk)
    assert refused is not None and refused.status == 403, "the desk is the organisers'"

    await karim.goto(path)
    await karim.click('button[name="action"][value="cancel"]')
    await reload_until(salma, path, "strong.code")
    assert "مؤكد" in await salma.locator("main").inner_text()
    salma_code = (await salma.locator("strong.code").inner_text()).strip()
    assert salma_code != karim_code

    await nadia.goto(desk)
    await within_budget(nadia, desk)
    await nadia.fill('[name="code"]', karim_code)  # withdrawn: no place, no check-in
    await nadia.click('button[name="action"][value="check_in"]')
    assert "Bienvenue" not in await nadia.locator("main").inner_text()
    await nadia.fill('[name="code"]', "WRONG9")
    await nadia.click('button[name="action"][value="check_in"]')
    assert await nadia.locator("#code-error").count() == 1
    await nadia.fill('[name="code"]', salma_code.lower())
    await nadia.click('button[name="action"][value="check_in"]')
    assert f"Bienvenue : {salma_code} est enregistré·e." in await nadia.locator("main").inner_text()
    row = nadia.locator("tr", has_text="Salma")
    assert re.search("présent", await row.inner_text())

    await salma.goto("/app/me")
    assert "لقاءاتي" in await salma.locator("main").inner_text()
    await within_budget(salma, "/app/me")
