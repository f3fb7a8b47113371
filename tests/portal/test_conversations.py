"""After the match, in Chromium with JavaScript off: the deadline on a proposal, a kind pass and a
confirmation on the desk, then the two sides writing to each other in their thread; a stranger gets
the 403 page, and the thread reads right to left in Arabic."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, BrowserContext

from ..harness import eventually
from ..integration.scenario import offer, profile, published_project, territory
from .browsing import open_context, reload_until, sign_in, within_budget
from .conftest import Site

SKILL = "energy.solar_pv_design"


async def test_after_the_match_the_project_passes_kindly_confirms_and_both_sides_write_in_their_thread(
    site: Site, browser: Browser, contexts: list[BrowserContext]
) -> None:
    platform = site.platform
    tiznit = await territory(platform, "Tiznit")
    for sub in ("c-leila", "c-nadia", "c-omar"):
        await platform.call(
            "POST", "/members", sub, expect=201, json=profile(sub.removeprefix("c-").capitalize(), tiznit)
        )
    project = await published_project(platform, "c-omar", tiznit, SKILL)
    for sub in ("c-leila", "c-nadia"):
        await offer(platform, sub, SKILL)

    async def proposed() -> dict[str, Any]:
        listed = await platform.call(
            "GET", "/matches", "c-omar", params={"project_id": project["project_id"]}
        )
        return {m["member_id"]: m for m in listed} if len(listed) == 2 else {}

    matches = await eventually(proposed)
    await platform.call("POST", f"/matches/{matches['c-nadia']['match_id']}/accept", "c-nadia", expect=200)

    leila = await open_context(browser, contexts, site.url)
    await sign_in(leila, "c-leila")
    await reload_until(leila, "/app/me", 'button[name="action"][value="accept"]')
    assert "Réponse attendue avant le" in await leila.locator("main").inner_text()
    await leila.click('button[name="action"][value="accept"]')

    omar = await open_context(browser, contexts, site.url)
    await sign_in(omar, "c-omar")
    desk = f"/app/p/{project['project_id']}/desk"
    await reload_until(omar, desk, 'button[name="action"][value="confirm"] >> nth=1')
    nadia_card = omar.locator(".card", has_text="Nadia")
    await nadia_card.locator("summary", has_text="Décliner").click()
    await nadia_card.locator('[name="reason_code"]').select_option("found_someone")
    await nadia_card.locator('[name="note"]').fill("Her cousin already helps us")
    await nadia_card.locator('button[name="action"][value="pass"]').click()
    assert "retiré" in await omar.locator(".card", has_text="Nadia").inner_text()
    await omar.locator(".card", has_text="Leila").locator('button[name="action"][value="confirm"]').click()

    async def nadia_told() -> list[dict[str, Any]]:
        inbox = await platform.call("GET", "/notifications", "c-nadia", params={"member_id": "c-nadia"})
        return [n for n in inbox if n["kind"] == "match_withdrawn"]

    [notice] = await eventually(nadia_told)
    assert "cousin" not in str(notice) and "found_someone" not in str(notice)

    await reload_until(leila, "/app/me/threads", ".card a")
    await within_budget(leila, "/app/me/threads")
    await leila.click(".card a")
    thread_path = leila.url.removeprefix(site.url)
    await leila.fill('[name="body"]', "Salam Omar, I can design the panels next week.")
    await leila.click('button[name="action"][value="send"]')
    assert "I can design the panels" in await leila.locator("main").inner_text()

    await reload_until(omar, "/app/me/threads", ".card.unread")
    assert "1 message non lu" in await omar.locator("main").inner_text()
    await omar.click(".card.unread a")
    assert "I can design the panels" in await omar.locator("main").inner_text()
    await omar.fill('[name="body"]', "Shukran Leila! Monday at ten?")
    await omar.click('button[name="action"][value="send"]')

    await leila.goto(thread_path)
    assert "Monday at ten?" in await leila.locator("main").inner_text()
    await within_budget(leila, thread_path)
    await leila.goto(f"/app/language/ar?next={thread_path}")
    assert await leila.locator("html").get_attribute("dir") == "rtl"
    assert "اكتب رسالة" in await leila.locator("main").inner_text()

    stranger = await open_context(browser, contexts, site.url)
    await platform.call("POST", "/members", "c-karim", expect=201, json=profile("Karim", tiznit))
    await sign_in(stranger, "c-karim")
    refused = await stranger.goto(thread_path)
    assert refused is not None and refused.status == 403
    assert "Vous ne pouvez pas voir cette page" in await stranger.locator("main").inner_text()
