"""The whole story in Chromium with JavaScript off, on a 360 px phone: sign in, register with a heart
bond, offer a skill; another person publishes a project for an association; the first sees the
proposal with its reasons in French and accepts; the owner confirms on the desk; a pledge sent twice
makes one pledge. Every page of the flow keeps the weight budget."""

from __future__ import annotations

import re

from playwright.async_api import Browser, BrowserContext

from ..integration.scenario import territory
from .browsing import form_fields, offer, open_context, register, reload_until, sign_in, within_budget
from .conftest import IMAGES, Site

SKILL = "energy.solar_pv_design"


async def test_the_main_story_works_in_a_browser_without_javascript(
    site: Site, browser: Browser, contexts: list[BrowserContext]
) -> None:
    tafraout = await territory(site.platform, "Tafraout")
    fatima = await open_context(browser, contexts, site.url)
    amina = await open_context(browser, contexts, site.url)

    await sign_in(fatima, "fatima")
    assert fatima.url.endswith("/app/register"), "a person not registered yet is asked to register"
    await register(fatima, name="Fatima Zahra", territory_id=tafraout, bond="heart")
    assert "/app/me/offers" in fatima.url
    await offer(fatima, SKILL)
    assert "saved=1" in fatima.url
    assert (
        await fatima.locator("h2", has_text="photovoltaïque").count() == 1
        or await fatima.locator(".card").count() == 1
    )

    await sign_in(amina, "amina")
    await register(
        amina,
        name="Amina Ait",
        territory_id=tafraout,
        bond="origin",
        country="MA",
        time_zone="Africa/Casablanca",
    )
    await amina.goto("/app/register?step=2")
    await register(
        amina,
        name="Tifawin Association",
        territory_id=tafraout,
        bond="origin",
        kind="association",
        country="MA",
        time_zone="Africa/Casablanca",
    )
    association_id = re.search(r"registered=([\w-]+)", amina.url).group(1)  # type: ignore[union-attr]

    async def created() -> bool:
        await amina.goto("/app/projects/new")
        await amina.select_option('[name="owner_member_id"]', association_id)
        await amina.select_option('[name="territory_id"]', tafraout)
        await amina.fill('[name="title"]', "Solar health post of Tafraout")
        await amina.fill('[name="summary"]', "Power the health post and train two technicians.")
        await amina.select_option('[name="sector"]', "energy")
        await amina.fill('[name="needs.0.skill"]', SKILL)
        await amina.select_option('[name="needs.0.mode"]', "remote")
        await amina.fill('[name="needs.0.min_level"]', "3")
        await amina.fill('[name="needs.0.count"]', "1")
        await amina.fill('[name="funding.goal_amount"]', "1000")
        await amina.fill('[name="funding.currency"]', "EUR")
        await amina.click('button[name="action"][value="save"]')
        return "/edit?saved=1" in amina.url  # the projects service learns of the association in a moment

    from ..harness import eventually

    await eventually(created, timeout=30, interval=0.5)
    project_path = amina.url.split("/edit")[0].removeprefix(site.url)
    await amina.click('button[name="action"][value="publish"]')
    assert amina.url.endswith(project_path)

    # Other tests of the session publish projects too: this project's proposal is the one to answer.
    proposal = fatima.locator(".card", has=fatima.locator(f'h3 a[href="{project_path}"]'))
    await reload_until(fatima, "/app/me", f'.card:has(h3 a[href="{project_path}"]) button[value="accept"]')
    assert "Pourquoi vous" in await proposal.inner_text()
    assert "vous êtes attaché·e à ce territoire" in await proposal.inner_text(), (
        "the reasons, in French words"
    )
    await within_budget(fatima, "/app/me")
    await fatima.screenshot(path=str(IMAGES / "portal-fr.png"), full_page=True)
    await proposal.locator('button[name="action"][value="accept"]').click()
    assert "accepté" in await proposal.inner_text()

    desk = f"{project_path}/desk"
    await reload_until(amina, desk, 'button[name="action"][value="confirm"]')
    await within_budget(amina, desk)
    await amina.click('button[name="action"][value="confirm"]')
    assert "confirmé" in await amina.locator("main").inner_text()

    await fatima.goto(project_path)
    await fatima.fill('[name="amount"]', "50")
    sent = await form_fields(fatima, f'form[action="{project_path}"]')
    assert sent["idempotency_key"], "the pledge form carries its Idempotency-Key"
    first = await fatima.context.request.post(
        project_path, form={**sent, "action": "pledge"}, max_redirects=0
    )
    again = await fatima.context.request.post(
        project_path, form={**sent, "action": "pledge"}, max_redirects=0
    )
    assert first.status == again.status == 303, "a second tap on a slow link answers as the first"
    await amina.goto(desk)
    text = await amina.locator("main").inner_text()
    assert "1 promesse de don" in text and "50,00" in text

    for page, path in (
        (fatima, "/app/"),
        (fatima, f"/app/t/{tafraout}"),
        (fatima, project_path),
        (fatima, "/app/me/offers"),
        (fatima, "/app/me/profile"),
        (fatima, "/app/me/notifications"),
        (fatima, "/app/search"),
        (amina, "/app/projects/new"),
        (amina, f"{project_path}/edit"),
        (amina, "/app/register?step=2"),
    ):
        await within_budget(page, path)
