"""Forms speak the API's language: what the API refuses is shown next to the field it names, in the
reader's language, with what was typed kept; a form works again once corrected."""

from __future__ import annotations

from playwright.async_api import Browser, BrowserContext

from ..integration.scenario import territory
from .browsing import open_context, register, sign_in
from .conftest import Site


async def test_a_refused_field_is_shown_next_to_it_in_the_readers_language_with_the_input_kept(
    site: Site, browser: Browser, contexts: list[BrowserContext]
) -> None:
    commune = await territory(site.platform, "Sidi Ifni")
    ines = await open_context(browser, contexts, site.url)
    await sign_in(ines, "ines")
    await register(ines, name="Ines Berrada", territory_id=commune, bond="heart", time_zone="Mars/Olympus")

    assert "/app/register" in ines.url
    field = ines.locator('[name="time_zone"]')
    assert await field.get_attribute("aria-invalid") == "true"
    assert await ines.locator("#time_zone-error").inner_text() == "Cette valeur n\u2019est pas acceptée."
    assert await field.input_value() == "Mars/Olympus"
    assert await ines.locator('[name="display_name"]').input_value() == "Ines Berrada"
    assert await ines.locator('[name="attachments.0.bond"]').input_value() == "heart"

    await ines.fill('[name="time_zone"]', "Europe/Paris")
    await ines.check("#languages-fr")
    await ines.click('button[name="action"][value="register"]')
    assert "/app/me/offers" in ines.url
