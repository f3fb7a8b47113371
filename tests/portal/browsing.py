"""What a person does in the portal, step by step, in Chromium; and the budgets every page keeps."""

from __future__ import annotations

import gzip
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page
from playwright.async_api import Error as PlaywrightError

from ..harness import eventually

PHONE = {"width": 360, "height": 740}
PAGE_BUDGET_BYTES = 60 * 1024
PAGE_BUDGET_REQUESTS = 5


async def open_context(
    browser: Browser,
    opened: list[BrowserContext],
    base_url: str,
    *,
    javascript: bool = False,
    locale: str = "fr-FR",
) -> Page:
    """A person's browser on a small phone, JavaScript off unless asked."""
    context = await browser.new_context(
        base_url=base_url, java_script_enabled=javascript, viewport=PHONE, locale=locale
    )
    opened.append(context)
    return await context.new_page()


async def sign_in(page: Page, sub: str, role: str = "member") -> None:
    await page.goto("/app/login")
    await page.fill('[name="sub"]', sub)
    await page.select_option('[name="role"]', role)
    await page.click('button[name="action"][value="login"]')


async def register(
    page: Page,
    *,
    name: str,
    territory_id: str,
    bond: str,
    language: str = "fr",
    country: str = "BE",
    kind: str = "person",
    time_zone: str = "Europe/Brussels",
) -> None:
    """The wizard: the language first, then the rest."""
    if "step=2" not in page.url:
        await page.goto("/app/register")
        await page.check(f"#locale-{language}")
        await page.click('button[name="action"][value="language"]')
    await page.check(f"#kind-{kind}")
    await page.fill('[name="display_name"]', name)
    await page.fill('[name="email"]', f"{name.split(maxsplit=1)[0].lower()}@example.org")
    await page.select_option('[name="attachments.0.territory_id"]', territory_id)
    await page.select_option('[name="attachments.0.bond"]', bond)
    await page.select_option('[name="country_of_residence"]', country)
    await page.check(f"#languages-{language}")
    await page.fill('[name="time_zone"]', time_zone)
    await page.check("#contact_consent")
    await page.click('button[name="action"][value="register"]')


async def offer(page: Page, skill: str, level: int = 4) -> None:
    await page.goto("/app/me/offers")
    await page.fill('[name="skill"]', skill)
    await page.fill('[name="level"]', str(level))
    await page.click('button[name="action"][value="offer"]')


async def reload_until(page: Page, path: str, selector: str) -> None:
    """Events take a moment to flow between services: the person reloads the page until it shows."""

    async def shown() -> bool:
        await page.goto(path)
        return await page.locator(selector).count() > 0

    await eventually(shown, timeout=30, interval=0.5)


async def weigh(page: Page, path: str) -> dict[str, Any]:
    """Load a page and say what it cost: requests, bytes once gzipped, and whether it fits 360 px."""
    bodies: list[bytes] = []
    pending: list[Any] = []

    def seen(response: Any) -> None:
        pending.append(response)

    page.on("response", seen)
    try:
        await page.goto(path)
        await page.wait_for_load_state("load")
    finally:
        page.remove_listener("response", seen)
    for response in list(pending):
        try:
            bodies.append(await response.body())
        except PlaywrightError:
            # A late answer to the page we left (its favicon, say) is not part of this page.
            if response.frame.url == page.url and response.request.is_navigation_request():
                raise
            pending.remove(response)
    width = await page.evaluate("document.documentElement.scrollWidth")
    return {
        "path": path,
        "requests": len(pending),
        "gzipped": sum(len(gzip.compress(body)) for body in bodies),
        "fits": width <= PHONE["width"],
    }


async def within_budget(page: Page, path: str) -> None:
    cost = await weigh(page, path)
    assert cost["requests"] <= PAGE_BUDGET_REQUESTS, cost
    assert cost["gzipped"] <= PAGE_BUDGET_BYTES, cost
    assert cost["fits"], f"{path} scrolls sideways on a 360 px screen"


async def form_fields(page: Page, selector: str) -> dict[str, str]:
    """The fields a form would send (hidden ones included), as the browser holds them."""
    return dict(
        await page.eval_on_selector_all(
            f"{selector} input[name]", "inputs => inputs.map(i => [i.name, i.value])"
        )
    )
