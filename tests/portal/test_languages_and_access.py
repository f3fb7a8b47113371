"""Arabic right to left on every page, managers' too; and no serious or critical accessibility
violation (axe-core) on the pages of the main flow, in French and in Arabic."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Page

from ..integration.scenario import name_manager, profile, published_project, territory
from .browsing import offer, open_context, register, sign_in
from .conftest import IMAGES, Site

SKILL = "energy.solar_pv_design"


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    results = await Axe().run(page)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]][:3]}
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def test_an_arabic_speaking_members_pages_and_a_managers_pages_are_right_to_left(
    site: Site, browser: Browser, contexts: list[BrowserContext]
) -> None:
    commune = await territory(site.platform, "Tata")
    project = await published_project(site.platform, "owner-2", commune, SKILL)
    await name_manager(site.platform, commune, "youssef")
    youssef = await open_context(browser, contexts, site.url, locale="fr-FR")
    await sign_in(youssef, "youssef", "territory_manager")
    await register(youssef, name="Youssef Amrani", territory_id=commune, bond="origin", language="ar")
    await offer(youssef, SKILL)

    for path in (
        "/app/",
        f"/app/t/{commune}",
        f"/app/p/{project['project_id']}",
        "/app/search",
        "/app/me",
        "/app/me/offers",
        "/app/me/profile",
        "/app/me/notifications",
        "/app/projects/new",
        "/app/manage",
        f"/app/manage/{commune}",
        "/app/logout",
        "/app/nowhere",
    ):
        await youssef.goto(path)
        html = youssef.locator("html")
        assert (await html.get_attribute("lang"), await html.get_attribute("dir")) == ("ar", "rtl"), path
    await youssef.goto("/app/me/offers")
    assert (
        "الطاقة" in await youssef.locator("main").inner_text() or await youssef.locator(".card").count() == 1
    )
    await youssef.screenshot(path=str(IMAGES / "portal-ar.png"), full_page=True)


async def test_the_pages_of_the_main_flow_have_no_serious_accessibility_violation_in_french_or_arabic(
    site: Site, browser: Browser, contexts: list[BrowserContext]
) -> None:
    commune = await territory(site.platform, "Imouzzer")
    project = await published_project(site.platform, "owner-3", commune, SKILL)
    found: dict[str, list[dict[str, Any]]] = {}
    for language, sub in (("fr", "gisele"), ("ar", "hassan")):
        await site.platform.call(
            "POST", "/members", sub, expect=201, json=profile(sub.title(), commune, locale=language)
        )
        # axe-core runs in the page: JavaScript on for the check (the pages do not depend on it).
        page = await open_context(browser, contexts, site.url, javascript=True)
        await page.goto("/app/login")
        found[f"{language} /app/login"] = await serious_violations(page)
        await sign_in(page, sub)
        for path in (
            "/app/",
            f"/app/t/{commune}",
            f"/app/p/{project['project_id']}",
            "/app/register",
            "/app/register?step=2",
            "/app/me",
            "/app/me/offers",
            "/app/me/profile",
            "/app/me/notifications",
            "/app/projects/new",
            "/app/search",
        ):
            await page.goto(path)
            assert await page.locator("html").get_attribute("lang") == language
            found[f"{language} {path}"] = await serious_violations(page)
    assert {page: violations for page, violations in found.items() if violations} == {}
