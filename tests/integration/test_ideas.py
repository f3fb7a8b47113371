"""The ideas service through its HTTP API and the events it consumes, on the real NATS and
PostgreSQL."""

from __future__ import annotations

from ..harness import Platform, eventually
from .scenario import profile, territory


async def test_a_members_idea_is_created_changed_by_its_owner_and_erased_with_the_member(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    await platform.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", tafraout))
    created = await platform.call("POST", "/ideas", "fatima", expect=201, json={"title": "Tafraout"})
    path = f"/ideas/{created['idea_id']}"
    await platform.call("PATCH", path, "youssef", expect=403, json={"title": "Kayes"})
    changed = await platform.call("PATCH", path, "fatima", expect=200, json={"title": "Kayes"})
    assert await platform.call("GET", path, "youssef", expect=200) == changed

    await platform.call("DELETE", "/members/fatima", "fatima", expect=202)

    async def forgotten() -> bool:
        response = await platform.http.get(path, headers=platform.as_("youssef"))
        return response.status_code == 404

    await eventually(forgotten)
