"""`passerelle demo`: a commune in Morocco, its diaspora in Brussels and Lyon, on a fresh platform.

Everything goes through the public HTTP API, as a real client would.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
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

    solar_idea = await _plan_and_ideas(
        (operator, Client(http, issue("hassan", ["member"]))),
        (fatima, youssef, amina),
        association["member_id"],
        tafraout,
    )

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
            "source_idea_ids": [solar_idea],
        },
    )
    await amina.call("POST", f"/projects/{project['project_id']}/publish")
    print(f'   "{project["title"]}": nurse trainer (3 weeks on site), solar engineer (remote), EUR 12,000')
    await _promoted(fatima, solar_idea)

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
    await _converse(fatima, amina)

    print("\n8. Each member is told, in their own language (their in-app inbox, newest first)")
    for client, member_id, expected in [(fatima, "fatima", 3), (youssef, "youssef", 2)]:

        async def inbox_of(reader: Client = client, member: str = member_id, count: int = expected) -> Any:
            found = await reader.call("GET", "/notifications", params={"member_id": member})
            return found if len(found) >= count else None

        for notification in await eventually(inbox_of) or []:
            print(f"   [{names[member_id]}, {notification['language']}] {notification['title']}")
            if notification["kind"] == "match_proposed":
                print(f"      {notification['body']}")
    treasurer = await _open_campaign(http, issue, amina, project)
    await _fund(
        project["project_id"], amina, [(youssef, "5000.00"), (claire, "4000.00"), (fatima, "3000.00")]
    )
    await _collect(treasurer, amina, project["project_id"])
    await _emails(mail_dir)
    await _forget(claire, amina, project["project_id"])
    await _information_session(amina, fatima, youssef, tafraout, association["member_id"])
    await _invest(http, issue, operator, fatima, tafraout)
    print("\nDone: published, matched and notified through NATS JetStream and PostgreSQL.")


async def _plan_and_ideas(
    officials: tuple[Client, Client],
    members: tuple[Client, Client, Client],
    association_id: str,
    tafraout: str,
) -> str:
    """Tafraout's development plan, three ideas and their support from Brussels, Lyon and Tafraout;
    returns the idea the solar project grows from."""
    (operator, hassan), (fatima, youssef, amina) = officials, members
    print("\n3b. Tafraout opens its communal development plan to its people, at home and abroad")
    await operator.call("POST", f"/territories/{tafraout}/managers", json={"sub": "hassan"})
    today = date.today()
    bounds = [today - timedelta(days=30), today, today + timedelta(days=30), today + timedelta(days=60)]
    bounds += [today + timedelta(days=90), date(today.year + 6, 12, 31)]
    names = ("diagnosis", "ideas", "prioritisation", "adoption", "monitoring")
    phases = [
        {"phase": name, "starts_on": str(bounds[i]), "ends_on": str(bounds[i + 1] - timedelta(days=1))}
        for i, name in enumerate(names)
    ]
    plan = {
        "territory_id": tafraout,
        "title": "Plan communal de développement de Tafraout",
        "period_from": f"{today.year + 1}-01-01",
        "period_to": f"{today.year + 6}-12-31",
        "phases": phases,
        "axes": [
            {"title": "Health and energy", "sectors": ["health", "energy"]},
            {"title": "Youth and jobs"},
        ],
    }
    plan = await _once_known(hassan, "POST", "/plans", json=plan)
    plan = await hassan.call("POST", f"/plans/{plan['plan_id']}/publish")
    print(f"   {plan['title']}: the {plan['current_phase']} phase is open until {phases[1]['ends_on']}")
    health, youth = (axis["axis_id"] for axis in plan["axes"])
    posted = [
        (
            fatima,
            None,
            health,
            "energy",
            "Solar power for the health post",
            "Power cuts stop the vaccine fridge.",
        ),
        (amina, association_id, youth, None, "An argan cooperative for young women", "Jobs without leaving."),
        (youssef, None, youth, None, "Summer tutoring by diaspora students", "Two weeks each July."),
    ]
    ideas = []
    for client, author, axis, sector, title, body in posted:
        idea = {"territory_id": tafraout, "plan_id": plan["plan_id"], "axis_id": axis, "sector": sector,
                "title": title, "body": body, "language": "fr", "author_member_id": author}  # fmt: skip
        ideas.append(await _once_known(client, "POST", "/ideas", json=idea))
    supporters = [(fatima, None, "Brussels"), (youssef, None, "Lyon"), (amina, association_id, "Tafraout")]
    for idea, backers in zip(ideas, (supporters, supporters[1:], supporters[:1]), strict=True):
        for client, member_id, city in backers:
            await _once_known(
                client, "POST", f"/ideas/{idea['idea_id']}/supports", json={"member_id": member_id}
            )
            print(f"   supported from {city:<9} {idea['title']}")
    ranking = await hassan.call("GET", f"/plans/{plan['plan_id']}/priorities")
    for axis in ranking["axes"]:
        for ranked in axis["ideas"]:
            supports = ranked["supports"]
            bonds = " ".join(f"{bond} {count}" for bond, count in supports["by_bond"].items())
            where = supports["by_residence"]
            print(f"   {axis['title']:<17} {supports['total']}  {ranked['title']:<38} {bonds};"
                  f" abroad {where['abroad']}, in Morocco {where['in_country']}")  # fmt: skip
    return str(ideas[0]["idea_id"])


async def _once_known(client: Client, method: str, path: str, **kwargs: Any) -> Any:
    """Ideas learns members, territories and managers from their events: a 403 may only mean that
    it has not heard of them yet."""

    async def accepted() -> Any:
        response = await client.http.request(method, path, headers=client.headers, **kwargs)
        return None if response.status_code == 403 else response

    response = await eventually(accepted)
    if response is None or response.is_error:
        raise RuntimeError(
            f"{method} {path} -> {response.status_code if response else 403}: {response and response.text}"
        )
    return response.json()


async def _promoted(reader: Client, idea_id: str) -> None:
    async def promoted() -> Any:
        idea = await reader.call("GET", f"/ideas/{idea_id}")
        return idea if idea["status"] == "promoted" else None

    idea = await eventually(promoted)
    status = idea["status"] if idea else "not promoted yet"
    print(f"   the idea it grew from (source_idea_ids) is {status}, with a link to the project")


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


async def _converse(helper: Client, owner: Client) -> None:
    print("\n7b. The confirmed match opens a thread: Fatima and the association write to each other")

    async def opened() -> list[Any]:
        return list(await helper.call("GET", "/threads", params={"member_id": "fatima"}))

    [thread] = await eventually(opened)
    path = f"/threads/{thread['thread_id']}/messages"
    await helper.call("POST", path, json={"body": "Salam! I can train the nurses in March."})
    await owner.call("POST", path, json={"body": "Wonderful, March suits us. Shall we call on Monday?"})
    for message in await helper.call("GET", path):
        author = next(p for p in thread["participants"] if p["member_id"] == message["author_member_id"])
        print(f"   {author['display_name']} ({author['role']}): {message['body']}")


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


async def _invest(
    http: httpx.AsyncClient,
    issue: Callable[[str, list[str]], str],
    operator: Client,
    fatima: Client,
    tafraout: str,
) -> None:
    print(
        "\n12. An olive-oil cooperative looks for someone to take over its press: reviewed, then introduced"
    )
    brahim, rachid = Client(http, issue("brahim", ["member"])), Client(http, issue("rachid", ["member"]))
    cooperative = await brahim.call(
        "POST",
        "/members",
        json={
            "kind": "local_actor",
            "display_name": "Coopérative oléicole Tafraout",
            "email": "cooperative.tafraout@example.org",
            "locale": "fr",
            "country_of_residence": "MA",
            "time_zone": "Africa/Casablanca",
            "languages": ["ar", "fr"],
            "attachments": [{"territory_id": tafraout, "bond": "origin"}],
            "sectors": ["agriculture"],
        },
    )
    await operator.call("POST", f"/territories/{tafraout}/managers", json={"sub": "rachid"})
    takeover = {
        "territory_id": tafraout,
        "promoter_member_id": cooperative["member_id"],
        "kind": "business_takeover",
        "sector": "agriculture",
        "title": "Reprise du moulin de la coopérative oléicole",
        "summary": "Les fondateurs partent à la retraite : le moulin et ses 40 membres cherchent repreneur.",
        "language": "fr",
        "amount_min": "80000",
        "amount_max": "150000",
        "currency": "EUR",
        "instruments": ["equity", "loan"],
        "stage": "operating",
        "expected_jobs": 12,
        "support_programmes": ["ma.mdm_invest", "ma.medma"],
        "support_needs": [{"skill": "entrepreneurship.business_plan", "mode": "remote"}],
    }
    opportunity = await eventually(lambda: _attempt(brahim, "POST", "/opportunities", json=takeover))
    path = f"/opportunities/{opportunity['opportunity_id']}"
    await brahim.call("POST", f"{path}/submit")
    hidden = await http.get(path, headers=fatima.headers)
    print(f'   "{opportunity["title"]}": EUR 80,000-150,000 (indicative), MDM Invest and MEDMA II may apply')
    print(f"   submitted: Fatima, a member, gets {hidden.status_code} until a manager of Tafraout approves")
    review = {"decision": "approved", "notes": "Complet ; programmes vérifiés."}
    await eventually(lambda: _attempt(rachid, "POST", f"{path}/review", json=review))
    seen = await fatima.call("GET", path)
    print(f"   Rachid approves: it is {seen['status']} until {seen['expires_on']}; {seen['disclaimer']}")
    interest = await fatima.call(
        "POST",
        f"{path}/interests",
        json={
            "role": "investor",
            "message": "Je vis à Bruxelles et souhaite investir à Tafraout.",
            "amount_max": "100000",
            "currency": "EUR",
        },
    )
    [card] = await brahim.call("GET", f"{path}/interests")
    who = card["member"] or {"display_name": "a member", "country_of_residence": "?"}
    print(
        f"   Fatima, from Brussels, is interested as investor; the cooperative sees "
        f"{who['display_name']} ({who['country_of_residence']}), no e-mail"
    )
    await brahim.call("POST", f"/interests/{interest['interest_id']}/accept")

    async def introduced() -> Any:
        found = await fatima.call("GET", "/notifications", params={"member_id": "fatima"})
        return [n for n in found if n["kind"] == "introduction_made"]

    for notification in await eventually(introduced) or []:
        print(f"   the cooperative accepts: [Fatima, {notification['language']}] {notification['title']}")


async def _attempt(client: Client, method: str, path: str, **kwargs: Any) -> Any:
    """The answer once the service has heard of what it refers to (a territory, a manager), else None."""
    response = await client.http.request(method, path, headers=client.headers, **kwargs)
    return response.json() if response.is_success else None


async def _open_campaign(
    http: httpx.AsyncClient, issue: Callable[[str, list[str]], str], owner: Client, project: dict[str, Any]
) -> Client:
    """The financing plan names the association's treasurer, a keep-it-all campaign opens and the
    commune offers to match the diaspora 1:1 up to EUR 3,000; the treasurer is returned."""
    print("\n8b. The association plans the financing: a keep-it-all campaign, the commune matches 1:1")
    path = f"/projects/{project['project_id']}"
    await owner.call(
        "PUT",
        f"{path}/financing-plan",
        json={
            "budget_amount": "18000.00",
            "currency": "EUR",
            "lines": [
                {"source": "diaspora_campaign", "label": "The diaspora's campaign", "amount": "12000.00"},
                {"source": "cofunding", "label": "Commune of Tafraout, 1:1", "amount": "3000.00"},
                {
                    "source": "own_funds",
                    "label": "The association",
                    "amount": "3000.00",
                    "status": "received",
                },
            ],
            "collector": {
                "kind": "association",
                "name": "Association des femmes de Tafraout",
                "payment_instructions": "IBAN MA64 0000 0000 0000 0000 0000 0000, write your reference",
                "confirmer_subs": ["hafsa"],
            },
        },
    )
    closes_at = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    campaign = await owner.call(
        "POST",
        f"{path}/campaigns",
        json={"goal_amount": "12000.00", "currency": "EUR", "rule": "keep_it_all", "closes_at": closes_at},
    )
    print(f"   keep it all: whatever is pledged by {campaign['closes_at'][:10]} is collected")
    mayor = Client(http, issue("mayor", ["member"]))
    commune = await mayor.call(
        "POST",
        "/members",
        json={
            "kind": "local_actor",
            "display_name": "Commune de Tafraout",
            "email": "commune@tafraout.example.org",
            "locale": "fr",
            "country_of_residence": "MA",
            "time_zone": "Africa/Casablanca",
            "languages": ["ar", "fr"],
            "attachments": [{"territory_id": project["territory_id"], "bond": "origin"}],
            "sectors": ["energy"],
            "managers": ["mayor"],
        },
    )

    async def offered() -> Any:
        response = await mayor.http.post(
            f"{path}/cofunding-offers",
            headers=mayor.headers,
            json={
                "sponsor_member_id": commune["member_id"],
                "ratio": "1",
                "cap_amount": "3000",
                "currency": "EUR",
            },
        )
        return response.json() if response.status_code == 201 else None  # 403 until projects knows the mayor

    offer = await eventually(offered)
    print(f"   {commune['display_name']} matches each euro collected, up to EUR {offer['cap_amount']}")
    return Client(http, issue("hafsa", ["member"]))


async def _collect(treasurer: Client, owner: Client, project_id: str) -> None:
    print("\n9b. The association's treasurer confirms two transfers from the bank statement")
    pledges = (await owner.call("GET", f"/projects/{project_id}"))["pledges"]
    references = [
        (await treasurer.call("GET", f"/pledges/{p['pledge_id']}"))["reference"] for p in pledges[:2]
    ]
    items = [{"reference": reference, "method": "bank_transfer"} for reference in references]
    for collected in await treasurer.call(
        "POST", f"/projects/{project_id}/collections", json={"items": items}
    ):
        print(f"   {collected['reference']}: EUR {collected['collected_amount']} arrived")
    ledger = await owner.call("GET", f"/projects/{project_id}/ledger")
    print(
        f"   ledger: EUR {ledger['pledged_total']} pledged, {ledger['collected_total']} collected, "
        f"{ledger['cofunded_total']} co-funded by the commune"
    )


async def _information_session(
    organiser: Client, fatima: Client, youssef: Client, tafraout: str, association_id: str
) -> None:
    print("\n12. The association holds an information session on investing at home; one place, two people")
    starts = (datetime.now(UTC) + timedelta(days=14)).replace(hour=17, minute=0, second=0, microsecond=0)
    body = {
        "territory_id": tafraout,
        "organiser_member_id": association_id,
        "kind": "information_session",
        "format": "in_person",
        "title": "Investir au pays : MEDMA II",
        "description": "How the diaspora invests at home, and with what support.",
        "languages": ["fr", "ar"],
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "time_zone": "Africa/Casablanca",
        "venue": {"name": "Maison des jeunes", "city": "Tafraout", "country": "MA"},
        "capacity": 1,
    }

    async def created() -> Any:  # once gatherings has heard of the territory and the association
        response = await organiser.http.post("/gatherings", headers=organiser.headers, json=body)
        return response.json() if response.status_code == 201 else None

    gathering = await eventually(created)
    gathering_id = gathering["gathering_id"]
    await organiser.call("POST", f"/gatherings/{gathering_id}/publish")
    path = f"/gatherings/{gathering_id}/registrations"
    first = await fatima.call("POST", path, json={})
    second = await youssef.call("POST", path, json={})
    print(f"   Fatima: {first['status']}; Youssef: {second['status']} (number {second['position']})")
    await fatima.call("DELETE", f"{path}/{first['registration_id']}")

    async def promoted() -> Any:
        found = await youssef.call("GET", "/notifications", params={"member_id": "youssef"})
        return next((n for n in found if n["kind"] == "gathering_promoted"), None)

    notice = await eventually(promoted)
    seen = await youssef.call("GET", f"/gatherings/{gathering_id}")
    print(f"   Fatima cancels; Youssef is {seen['my_registration']['status']} and told, in Arabic:")
    print(f"      {notice['title']}")
    print(f"      {notice['body']}")
