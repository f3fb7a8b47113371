"""Financing in Chromium with JavaScript off: a donor reads the campaign's rule in plain words,
pledges and gets the reference and the collector's payment instructions; the association's
treasurer pastes the reference and records cash at the desk; the ledger shows what arrived; anyone
else is refused the desk; Arabic pages read right to left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.async_api import Browser, BrowserContext

from ..integration.scenario import name_manager, territory
from .browsing import open_context, sign_in, within_budget
from .conftest import Site

INSTRUCTIONS = "IBAN FR76 3000 4000 0500 0012 3456 789"


async def financed_project(site: Site) -> str:
    platform = site.platform
    tafraout = await territory(platform, "Tafraout")
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
            "funding": {"goal_amount": "12000.00", "currency": "EUR"},
        },
    )
    path = f"/projects/{project['project_id']}"
    await platform.call("POST", f"{path}/publish", "amina", expect=200)
    plan = {
        "budget_amount": "15000.00",
        "currency": "EUR",
        "lines": [{"source": "diaspora_campaign", "label": "Diaspora", "amount": "12000.00"}],
        "collector": {
            "kind": "association",
            "name": "Tafraout Solidarité",
            "payment_instructions": INSTRUCTIONS,
            "confirmer_subs": ["hafsa"],
        },
    }
    await platform.call("PUT", f"{path}/financing-plan", "amina", expect=200, json=plan)
    closes_at = datetime(2029, 6, 30, 18, tzinfo=UTC)
    assert closes_at > datetime.now(UTC) + timedelta(days=1)
    campaign = {
        "goal_amount": "12000.00",
        "currency": "EUR",
        "rule": "all_or_nothing",
        "closes_at": closes_at.isoformat(),
    }
    await platform.call("POST", f"{path}/campaigns", "amina", expect=201, json=campaign)
    return str(project["project_id"])


async def test_a_donor_pledges_and_the_treasurer_collects_in_a_browser_without_javascript(
    site: Site, browser: Browser, contexts: list[BrowserContext]
) -> None:
    project_id = await financed_project(site)
    page_path = f"/app/p/{project_id}/financing"
    desk_path = f"/app/p/{project_id}/treasury"
    donor = await open_context(browser, contexts, site.url)
    treasurer = await open_context(browser, contexts, site.url)

    await donor.goto(page_path)
    rule = await donor.locator(".rule").inner_text()
    assert "Tout ou rien" in rule and "12\u202f000,00" in rule and "30 juin 2029" in rule
    await sign_in(donor, "fatima")
    await donor.goto(page_path)
    await donor.fill('[name="amount"]', "250")
    await donor.fill('[name="public_name"]', "Fatima B.")
    await donor.click('button[name="action"][value="pledge"]')
    assert "/app/pledges/" in donor.url
    reference = (await donor.locator(".reference").inner_text()).strip()
    assert reference.startswith("TAF-") and len(reference) == len("TAF-7K4Q-2M")
    confirmation = await donor.locator("main").inner_text()
    assert INSTRUCTIONS in confirmation and "250,00" in confirmation
    await within_budget(donor, donor.url.removeprefix(site.url))

    refused_desk = await donor.goto(desk_path)
    assert refused_desk is not None and refused_desk.status == 403
    assert "Vous ne pouvez pas voir cette page" in await donor.locator("h1").inner_text()

    await sign_in(treasurer, "hafsa")
    await treasurer.goto(desk_path)
    await treasurer.fill('[name="references"]', f"{reference.lower()}\nTAF-2345-67")
    await treasurer.click('button[name="action"][value="collect"]')
    refused = await treasurer.locator('[role="alert"]').inner_text()
    assert "Rien n'a été enregistré" in refused and "TAF-2345-67" in refused
    await treasurer.fill('[name="references"]', reference.lower())
    await treasurer.click('button[name="action"][value="collect"]')
    assert "collected=1" in treasurer.url
    await treasurer.fill('[name="amount"]', "80")
    await treasurer.fill('[name="public_name"]', "Réunion du village")
    await treasurer.click('button[name="action"][value="record"]')
    assert "recorded=1" in treasurer.url
    await within_budget(treasurer, desk_path)

    await donor.goto(page_path)
    ledger = await donor.locator("main").inner_text()
    assert "330,00" in ledger and "Fatima B." in ledger and "Réunion du village" in ledger
    funding = await donor.locator(".funding").inner_text()
    assert "330,00" in funding.split("Collecté")[0] and "330,00" in funding.split("Collecté")[1]

    await donor.goto("/app/me")
    [mine] = await donor.locator("#my-pledges tbody tr").all_inner_texts()
    assert "Tafraout solar pumps" in mine and "250,00" in mine and "collecté" in mine and reference in mine
    await within_budget(donor, "/app/me")

    arabic = await open_context(browser, contexts, site.url, locale="ar-MA")
    await arabic.goto(page_path)
    assert await arabic.get_attribute("html", "dir") == "rtl"
    assert "الكل أو لا شيء" in await arabic.locator(".rule").inner_text()


async def test_every_kind_of_notice_the_api_knows_is_chosen_in_words_on_the_preferences_page(
    site: Site, browser: Browser, contexts: list[BrowserContext]
) -> None:
    member = await open_context(browser, contexts, site.url)
    await sign_in(member, "nadia")
    await member.goto("/app/me/notifications")
    rows = await member.locator("tbody th").all_inner_texts()
    assert "Mon don est bien arrivé" in rows and "Un nouveau message dans une conversation" in rows
    assert "Une opportunité va bientôt fermer" in rows and not [row for row in rows if "_" in row]
    await member.uncheck("#channels-pledge_collected-email")
    await member.click('button[name="action"][value="save"]')
    assert "saved=1" in member.url
    saved = await site.platform.call("GET", "/notification-preferences/nadia", "nadia", expect=200)
    assert saved["channels"]["pledge_collected"] == ["inbox", "webhook"]
    assert saved["channels"]["match_reminder"] == ["inbox", "email", "webhook"]
    assert await member.is_checked("#channels-match_reminder-email")
    assert not await member.is_checked("#channels-pledge_collected-email")
