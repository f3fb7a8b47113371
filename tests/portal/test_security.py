"""Every page authorizes like the API behind it, answers 403 with a page (not a stack trace), refuses
forms without their CSRF token, escapes what people write and sends the security headers."""

from __future__ import annotations

from playwright.async_api import Browser, BrowserContext

from ..integration.scenario import profile, published_project, territory
from .browsing import open_context, register, sign_in
from .conftest import Site


async def test_a_third_member_gets_403_pages_on_someone_elses_desk_edit_and_manager_pages(
    site: Site, browser: Browser, contexts: list[BrowserContext]
) -> None:
    commune = await territory(site.platform, "Tiznit")
    project = await published_project(site.platform, "owner-1", commune, "energy.solar_pv_design")
    await site.platform.call("POST", "/members", "carla", expect=201, json=profile("Carla", commune))
    carla = await open_context(browser, contexts, site.url)
    await sign_in(carla, "carla")

    for path in (
        f"/app/p/{project['project_id']}/desk",
        f"/app/p/{project['project_id']}/edit",
        f"/app/manage/{commune}",
        "/app/manage",
    ):
        answer = await carla.goto(path)
        assert answer is not None and answer.status == 403, path
        assert await carla.locator("h1").inner_text() == "Vous ne pouvez pas voir cette page", path
        assert await carla.locator("html").get_attribute("lang") == "fr"


async def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(
    site: Site, browser: Browser, contexts: list[BrowserContext]
) -> None:
    commune = await territory(site.platform, "Anzi")
    await site.platform.call("POST", "/members", "dina", expect=201, json=profile("Dina", commune))
    dina = await open_context(browser, contexts, site.url)
    await sign_in(dina, "dina")
    body = {"skill": "energy.solar_pv_design", "level": "4", "modes": "remote", "action": "offer"}

    refused = await dina.context.request.post("/app/me/offers", form=body, max_redirects=0)
    forged = await dina.context.request.post(
        "/app/me/offers", form={**body, "csrf_token": "forged"}, max_redirects=0
    )

    assert refused.status == forged.status == 403
    assert "text/html" in refused.headers["content-type"]
    assert await site.platform.call("GET", "/members/dina/offers", "dina", expect=200) == []


async def test_what_people_write_is_shown_as_text_and_pages_send_the_security_headers(
    site: Site, browser: Browser, contexts: list[BrowserContext]
) -> None:
    commune = await territory(site.platform, "Ait Baha")
    elias = await open_context(browser, contexts, site.url)
    await sign_in(elias, "elias")
    await register(elias, name="Elias <script>alert(1)</script>", territory_id=commune, bond="family")

    answer = await elias.goto("/app/me/profile")
    assert answer is not None
    assert await elias.locator('[name="display_name"]').input_value() == "Elias <script>alert(1)</script>"
    assert "<script>alert" not in await answer.text()
    headers = answer.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    cookie = next(c for c in await elias.context.cookies() if c["name"] == "passerelle_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert not cookie["secure"], "on loopback the cookie is not Secure, so that plain http works"


async def test_signing_out_ends_the_session(
    site: Site, browser: Browser, contexts: list[BrowserContext]
) -> None:
    commune = await territory(site.platform, "Mirleft")
    await site.platform.call("POST", "/members", "farid", expect=201, json=profile("Farid", commune))
    farid = await open_context(browser, contexts, site.url)
    await sign_in(farid, "farid")
    assert farid.url.endswith("/app/me")
    signed_in = await farid.context.cookies()

    await farid.click('header button[name="action"][value="logout"]')
    await farid.goto("/app/me")
    copy = await open_context(browser, contexts, site.url)
    await copy.context.add_cookies(signed_in)  # a copy of the cookie taken before signing out
    await copy.goto("/app/me")

    assert "/app/login" in farid.url
    assert await farid.locator('header a[href="/app/login"]').count() == 1
    assert "/app/login" in copy.url, "the session ended for every copy of its cookie"
