"""`passerelle demo`: a commune in Morocco, its diaspora in Brussels and Lyon, on a fresh platform.

Everything goes through the public HTTP API, as a real client would.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any, TypeVar

import httpx

from passerelle.embedded.ports import free_port
from passerelle.runtime.platform import allow_development_sign_in, serve_http, start_platform
from passerelle.settings import PlatformSettings

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T]], timeout: float = 30.0) -> T:
    """Poll until the probe returns something truthy: events take a moment to flow."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await probe()
        if result or loop.time() > deadline:
            return result
        await asyncio.sleep(0.2)


class Client:
    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http, self.headers = http, {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, path, headers=self.headers, **kwargs)
        if response.is_error:
            raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.text}")
        return response.json() if response.content else None


async def run_demo(data_dir: Path | None = None) -> None:
    with tempfile.TemporaryDirectory(prefix="passerelle-demo-") as scratch:
        root = data_dir or Path(scratch)
        settings = PlatformSettings(data_dir=root, host="127.0.0.1", port=free_port(), log_level="WARNING")
        print(f"Starting a fresh platform (embedded NATS and PostgreSQL under {root}) ...")
        allow_development_sign_in()
        platform = await start_platform(settings, database_url=None, embedded_nats=True)
        server = asyncio.create_task(serve_http(platform.app, settings.host, settings.port))
        try:
            async with httpx.AsyncClient(
                base_url=f"http://{settings.host}:{settings.port}", timeout=30
            ) as http:
                await eventually(lambda: _answers(http))
                await _scenario(http, platform.authenticator.issue, root / "mail")
                await _open_the_portal(f"http://{settings.host}:{settings.port}")
        finally:
            server.cancel()
            await asyncio.gather(server, return_exceptions=True)
            await platform.stop()


# Who the story's people are, to sign in as them in the portal (its development sign-in).
PORTAL_IDENTITIES = (
    ("fatima", "member", "nurse trainer in Brussels, French"),
    ("amina", "member", "manages the association that runs the project"),
    ("youssef", "member", "solar engineer in Lyon, Arabic"),
    ("zineb", "community_manager", "mobilises Tafraout's diaspora"),
    ("operator-1", "operator", "the platform's operator"),
)


async def _open_the_portal(base_url: str) -> None:
    """The same platform, in a browser: in a terminal it stays open until Ctrl-C."""
    print(f"\nThe portal: {base_url}/app/ (sign in with an identifier and a role):")
    for sub, role, who in PORTAL_IDENTITIES:
        print(f"   {sub:<11} {role:<18} {who}")
    if sys.stdin.isatty():
        print("Press Ctrl-C to stop.", flush=True)
        await asyncio.Event().wait()


async def _answers(http: httpx.AsyncClient) -> bool:
    try:
        return (await http.get("/readyz")).status_code == 200
    except httpx.TransportError:
        return False


async def _scenario(http: httpx.AsyncClient, issue: Callable[[str, list[str]], str], mail_dir: Path) -> None:
    operator = Client(http, issue("operator-1", ["operator"]))
    amina = Client(http, issue("amina", ["member"]))
    fatima = Client(http, issue("fatima", ["member"]))
    youssef = Client(http, issue("youssef", ["member"]))
    claire = Client(http, issue("claire", ["member"]))

    print("\n1. The operator registers the territory, from the country down to the commune")
    parent: Any = None
    for name, tier in [
        ("Morocco", "country"),
        ("Souss-Massa", "region"),
        ("Tiznit", "province"),
        ("Tafraout", "commune"),
    ]:
        territory = await operator.call(
            "POST", "/territories", json={"name": name, "country": "MA", "level": tier, "parent_id": parent}
        )
        parent = territory["territory_id"]
        print(f"   {tier:<8} {name}")
    tafraout: str = parent

    print("\n2. Members register, with their bonds to the territory")
    people: list[tuple[Client, dict[str, Any], str, str]] = [
        (
            fatima,
            {
                "display_name": "Fatima El Amrani",
                "email": "fatima@example.org",
                "locale": "fr",
                "country_of_residence": "BE",
                "time_zone": "Europe/Brussels",
                "languages": ["fr", "nl", "ar"],
                "attachments": [{"territory_id": tafraout, "bond": "origin"}],
                "sectors": ["health"],
                "generation": "first",
            },
            "Brussels",
            "born in Tafraout (origin)",
        ),
        (
            youssef,
            {
                "display_name": "Youssef Ait Lahcen",
                "email": "youssef@example.org",
                "locale": "ar-MA",
                "country_of_residence": "FR",
                "time_zone": "Europe/Paris",
                "languages": ["ar", "fr"],
                "attachments": [{"territory_id": tafraout, "bond": "family"}],
                "sectors": ["energy"],
                "generation": "second",
            },
            "Lyon",
            "his parents' commune (family)",
        ),
        (
            claire,
            {
                "display_name": "Claire Dubois",
                "email": "claire@example.org",
                "locale": "fr",
                "country_of_residence": "BE",
                "time_zone": "Europe/Brussels",
                "languages": ["fr", "en"],
                "attachments": [{"territory_id": tafraout, "bond": "heart"}],
                "sectors": ["energy"],
                "generation": "none",
                "contact_consent": True,
            },
            "Brussels",
            "diaspora of the heart",
        ),
    ]
    for client, profile, city, bond in people:
        member = await client.call("POST", "/members", json={"kind": "person", **profile})
        print(f"   {member['display_name']:<20} lives in {city:<9} {bond}")
    association = await amina.call(
        "POST",
        "/members",
        json={
            "kind": "local_actor",
            "display_name": "Association des femmes de Tafraout",
            "email": "femmes.tafraout@example.org",
            "locale": "fr",
            "country_of_residence": "MA",
            "time_zone": "Africa/Casablanca",
            "languages": ["ar", "fr"],
            "attachments": [{"territory_id": tafraout, "bond": "origin"}],
            "sectors": ["health", "energy"],
        },
    )
    print(f"   {association['display_name']} (local actor, managed by Amina)")

    print("\n3. Fatima looks up her skill in the taxonomy, in French, then offers it")
    found = await fatima.call("GET", "/skills", params={"q": "infirm", "lang": "fr"})
    for skill in found:
        print(f"   {skill['code']:<24} {skill['label']}")
    await fatima.call(
        "POST",
        "/members/fatima/offers",
        json={
            "skill": "health.nurse_training",
            "level": 4,
            "modes": ["short_mission", "mentoring"],
            "languages": ["fr", "ar"],
        },
    )
    print("   Fatima: nurse trainer, level 4, short missions or mentoring")

    print("\n4. The association publishes a project with concrete needs and a funding goal")
    project = await amina.call(
        "POST",
        "/projects",
        json={
            "territory_id": tafraout,
            "owner_member_id": association["member_id"],
            "title": "Solar-powered health post in Tafraout",
            "summary": "Train two local nurses and power the health post with solar panels.",
            "sector": "health",
            "languages": ["fr", "ar"],
            "needs": [
                {"skill": "health.nurse_training", "min_level": 3, "mode": "short_mission", "count": 1},
                {"skill": "energy.solar_pv_design", "min_level": 3, "mode": "remote", "count": 1},
            ],
            "funding": {"goal_amount": "12000.00", "currency": "EUR"},
        },
    )
    await amina.call("POST", f"/projects/{project['project_id']}/publish")
    print(f'   "{project["title"]}": nurse trainer (3 weeks on site), solar engineer (remote), EUR 12,000')

    print("\n5. Youssef and Claire offer solar engineering after the project is out")
    for client, member_id, level in ((youssef, "youssef", 5), (claire, "claire", 3)):
        await client.call(
            "POST",
            f"/members/{member_id}/offers",
            json={
                "skill": "energy.solar_pv_design",
                "level": level,
                "modes": ["remote"],
                "languages": ["fr"],
            },
        )
        print(f"   {member_id.capitalize()}: solar PV design, level {level}, remote")

    await _mobilise(Client(http, issue("zineb", ["community_manager"])), tafraout)

    names = {"fatima": "Fatima", "youssef": "Youssef", "claire": "Claire"}
    await _matches(amina, fatima, project, names)

    print("\n8. Each member is told, in their own language (their in-app inbox, newest first)")
    for client, member_id, expected in [(fatima, "fatima", 3), (youssef, "youssef", 2)]:

        async def inbox_of(reader: Client = client, member: str = member_id, count: int = expected) -> Any:
            found = await reader.call("GET", "/notifications", params={"member_id": member})
            return found if len(found) >= count else None

        for notification in await eventually(inbox_of) or []:
            print(f"   [{names[member_id]}, {notification['language']}] {notification['title']}")
            if notification["kind"] == "match_proposed":
                print(f"      {notification['body']}")
    await _fund(
        project["project_id"], amina, [(youssef, "5000.00"), (claire, "4000.00"), (fatima, "3000.00")]
    )
    await _emails(mail_dir)
    await _forget(claire, amina, project["project_id"])
    print("\nDone: published, matched and notified through NATS JetStream and PostgreSQL.")


async def _matches(owner: Client, fatima: Client, project: dict[str, Any], names: dict[str, str]) -> None:
    print("\n7. Matching proposes, best first, and says why")

    async def all_matched() -> list[Any]:
        found = await owner.call("GET", "/matches", params={"project_id": project["project_id"]})
        return found if len(found) >= 3 else []

    matches = await eventually(all_matched)
    skills = {need["need_id"]: need["skill"] for need in project["needs"]}
    for match in matches:
        who = names.get(match["member_id"], match["member_id"])
        print(f"   {match['score']:.2f}  {who:<8} for {skills[match['need_id']]}")
        print(f"         {match['explanation']}")
    nurse = next(m for m in matches if m["member_id"] == "fatima")
    await fatima.call("POST", f"/matches/{nurse['match_id']}/accept")
    confirmed = await owner.call("POST", f"/matches/{nurse['match_id']}/confirm")
    print(f"   Fatima accepts; the association confirms: the nurse trainer match is {confirmed['status']}")


async def _mobilise(manager: Client, territory_id: str) -> None:
    print("\n6. A community manager looks for Tafraout's diaspora who can help with solar energy")
    page = await manager.call(
        "GET", "/members", params={"territory_id": territory_id, "skill": "energy.solar", "lang": "fr"}
    )
    for card in page:
        bonds = ", ".join(a["bond"] for a in card["attachments"])
        offered = ", ".join(f"{s['label']} ({s['level']})" for s in card["skills"])
        contact = card["email"] or "contact through the platform"
        print(f"   {card['display_name']:<20} {bonds:<7} {offered}; {contact}")


async def _fund(project_id: str, owner: Client, pledges: list[tuple[Client, str]]) -> None:
    print("\n9. The diaspora pledges the EUR 12,000 of co-financing")
    for donor, amount in pledges:
        pledge = await donor.call("POST", f"/projects/{project_id}/pledges", json={"amount": amount})
        print(f"   {pledge['member_id']:<8} pledges EUR {pledge['amount']}")
    seen = await owner.call("GET", f"/projects/{project_id}")
    reached = "reached" if seen["goal_reached_at"] else "not reached yet"
    print(f"   total EUR {seen['pledged_total']} of {seen['funding']['goal_amount']}: goal {reached}")

    async def owner_told() -> list[Any]:
        inbox = await owner.call("GET", "/notifications", params={"member_id": seen["owner_member_id"]})
        return [n for n in inbox if n["kind"] == "funding_goal_reached"]

    for told in await eventually(owner_told):
        print(f"   the association and every pledger are told: {told['title']}")


async def _emails(mail_dir: Path) -> None:
    print(f"\n10. ... and by e-mail: with no SMTP server set, each one is an .eml file in {mail_dir}")

    async def all_written() -> list[Path]:
        before = _in_order_written(mail_dir)
        await asyncio.sleep(1.5)  # messages go out within a second of the event
        return before if before == _in_order_written(mail_dir) else []

    for path in await eventually(all_written):
        message = message_from_bytes(path.read_bytes(), policy=default)
        print(f"   to {message['To']:<27} [{message['Content-Language']}] {message['Subject'].strip()}")


def _in_order_written(mail_dir: Path) -> list[Path]:
    return sorted(mail_dir.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns)


async def _forget(claire: Client, owner: Client, project_id: str) -> None:
    print("\n11. Claire asks to be forgotten (GDPR): her data goes, every service follows")
    await claire.call("DELETE", "/members/claire")
    gone = await claire.http.get("/members/claire", headers=claire.headers)

    async def claire_withdrawn() -> list[Any]:
        found = await owner.call("GET", "/matches", params={"project_id": project_id})
        return [m for m in found if m["member_id"] == "claire" and m["status"] == "withdrawn"]

    withdrawn = await eventually(claire_withdrawn)
    print(f"   GET /members/claire -> {gone.status_code}; her {len(withdrawn)} match(es) withdrawn")

    async def anonymous_pledge() -> Any:
        seen = await owner.call("GET", f"/projects/{project_id}")
        return seen if None in {pledge["member_id"] for pledge in seen["pledges"]} else None

    seen = await eventually(anonymous_pledge)
    print(f"   the ledger keeps her pledge anonymously: total still EUR {seen['pledged_total']}")
