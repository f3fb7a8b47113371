"""Notifications on the real NATS and PostgreSQL, with a real SMTP server and a real webhook receiver.

Events are published onto their streams as their owning services would, so that each test says
exactly what happened on the platform."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from notifications.digests import next_digest_at
from notifications.webhooks import new_secret, verify
from passerelle.contracts import (
    FundingGoalReached,
    MatchAccepted,
    MatchConfirmed,
    MatchProposed,
    MatchWithdrawn,
    MemberErased,
    MemberRegistered,
    PledgeMade,
    ProjectPublished,
    TerritoryRegistered,
    envelope,
)
from sqlalchemy.engine import make_url
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from ..harness import Databases, Platform, eventually, settings_for, start_platform
from ..receivers import Mailbox, WebhookReceiver, smtp_server
from .scenario import publish


@dataclass
class World:
    platform: Platform
    mailbox: Mailbox
    webhooks: WebhookReceiver

    async def inbox(self, member_id: str, **params: Any) -> list[dict[str, Any]]:
        found = await self.platform.call(
            "GET", "/notifications", member_id, params={"member_id": member_id, **params}, expect=200
        )
        return list(found)

    async def told(self, member_id: str, kind: str, count: int = 1) -> list[dict[str, Any]]:
        """The member's inbox notifications of that kind, once there are `count` of them."""

        async def found() -> list[dict[str, Any]]:
            told = [n for n in await self.inbox(member_id) if n["kind"] == kind]
            return told if len(told) >= count else []

        return await eventually(found)

    async def log(self, **params: str) -> list[dict[str, Any]]:
        found = await self.platform.call(
            "GET", "/notification-deliveries", "operator-1", "operator", params=params, expect=200
        )
        return list(found)

    async def sql(self, statement: str, *args: Any) -> list[asyncpg.Record]:
        url = make_url(self.platform.database_urls["notifications"])
        connection = await asyncpg.connect(
            host=url.host, port=url.port, user=url.username, password=url.password, database=url.database
        )
        try:
            return list(await connection.fetch(statement, *args))
        finally:
            await connection.close()

    async def time_passes(self, member_id: str) -> None:
        """The member's digest time comes (what a clock would do overnight)."""
        await self.sql(
            "UPDATE messages SET due_at = now() WHERE member_id = $1 AND status = 'pending'", member_id
        )


@pytest.fixture
async def world(clean_nats: str, databases: Databases, tmp_path: Path) -> AsyncIterator[World]:
    mailbox = Mailbox()
    webhooks = WebhookReceiver()
    await webhooks.start()
    with smtp_server(mailbox) as smtp_url:
        settings = settings_for(
            clean_nats,
            smtp_url=smtp_url,
            mail_dir=tmp_path / "mail",
            webhook_allowed_networks=["127.0.0.1/32"],
        )
        platform = await start_platform(settings, databases)
        try:
            await _places(platform)
            yield World(platform, mailbox, webhooks)
        finally:
            await platform.stop()
            await webhooks.stop()


async def _places(platform: Platform) -> None:
    await publish(
        platform, TerritoryRegistered(territory_id="souss", name="Souss-Massa", country="MA", level="region")
    )
    await publish(
        platform,
        TerritoryRegistered(
            territory_id="tafraout", name="Tafraout", country="MA", level="commune", parent_id="souss"
        ),
    )


def member(
    member_id: str, name: str, locale: str, territory: str = "tafraout", **extra: Any
) -> MemberRegistered:
    return MemberRegistered(
        member_id=member_id,
        kind="person",
        display_name=name,
        email=f"{member_id}@example.org",
        locale=locale,
        country_of_residence="BE",
        time_zone=extra.pop("time_zone", "Europe/Brussels"),
        languages=["fr"],
        attachments=[{"territory_id": territory, "bond": "origin"}],
        **extra,
    )


def project(
    project_id: str = "p-health", owner: str = "amina", territory: str = "tafraout"
) -> ProjectPublished:
    return ProjectPublished(
        project_id=project_id,
        territory_id=territory,
        owner_member_id=owner,
        title="Solar health post",
        summary="Power the health post of Tafraout with solar panels.",
        sector="energy",
        languages=["fr"],
        needs=[
            {
                "need_id": "n-solar",
                "skill": "energy.solar_pv_design",
                "min_level": 3,
                "mode": "remote",
                "count": 1,
            }
        ],
        funding={"goal_amount": "1000.00", "currency": "EUR"},
    )


def proposal(member_id: str, match_id: str = "m-1") -> MatchProposed:
    return MatchProposed(
        match_id=match_id,
        project_id="p-health",
        need_id="n-solar",
        offer_id=f"o-{member_id}",
        member_id=member_id,
        score=0.92,
        reasons=["skill_exact", "bond_origin", "language:fr"],
    )


def pledge(pledge_id: str, member_id: str, amount: str) -> PledgeMade:
    return PledgeMade(
        pledge_id=pledge_id, project_id="p-health", member_id=member_id, amount=amount, currency="EUR"
    )


async def _emails_to(world: World, address: str, count: int = 1) -> list[Any]:
    async def found() -> list[Any]:
        sent = world.mailbox.to(address)
        return sent if len(sent) >= count else []

    return await eventually(found)


async def test_a_match_reaches_each_member_in_their_language_in_the_inbox_and_by_email(world: World) -> None:
    await publish(world.platform, member("fatima", "Fatima", "fr-BE"))
    await publish(world.platform, member("youssef", "Youssef", "ar-MA"))
    await publish(world.platform, member("amina", "Amina", "fr"))
    await publish(world.platform, project())
    await publish(world.platform, proposal("fatima", "m-1"))
    await publish(world.platform, proposal("youssef", "m-2"))

    [french] = await world.told("fatima", "match_proposed")
    assert french["title"] == "Un projet à Tafraout a besoin de vous : Solar health post"
    assert "(conception d'installations photovoltaïques)" in french["body"]  # the skill, in French
    assert "vous êtes originaire de ce territoire" in french["body"]
    [arabic] = await world.told("youssef", "match_proposed")
    assert arabic["language"] == "ar" and arabic["title"] == "مشروع في Tafraout يحتاج إليك: Solar health post"
    [welcome] = await world.told("youssef", "welcome")
    assert welcome["title"] == "مرحبًا بك في Passerelle يا Youssef"

    emails = await _emails_to(world, "youssef@example.org", 2)
    about_match = next(e for e in emails if e["Subject"] == arabic["title"])
    html = about_match.get_body(("html",)).get_content()
    assert '<html lang="ar" dir="rtl">' in html and arabic["body"] in html
    assert about_match["Content-Language"] == "ar"
    assert arabic["body"] in about_match.get_body(("plain",)).get_content()
    [to_fatima] = [
        e for e in await _emails_to(world, "fatima@example.org", 2) if e["Subject"] == french["title"]
    ]
    assert 'dir="ltr"' in to_fatima.get_body(("html",)).get_content()

    # Reading the inbox: one notification, then all.
    assert len(await world.inbox("fatima", unread="true")) == 2
    read = await world.platform.call(
        "POST", f"/notifications/{french['notification_id']}/read", "fatima", expect=200
    )
    assert read["read_at"] is not None
    assert [n["kind"] for n in await world.inbox("fatima", unread="true")] == ["welcome"]
    await world.platform.call(
        "POST", "/notifications/read", "youssef", params={"member_id": "youssef"}, expect=200
    )
    assert await world.inbox("youssef", unread="true") == []
    # Nobody reads or marks another member's messages.
    await world.platform.call("GET", "/notifications", "youssef", params={"member_id": "fatima"}, expect=403)
    await world.platform.call(
        "POST", f"/notifications/{french['notification_id']}/read", "youssef", expect=403
    )


async def test_the_owner_hears_of_acceptances_and_pledges_and_the_member_of_confirmation_and_withdrawal(
    world: World,
) -> None:
    for registered in (
        member("fatima", "Fatima", "fr"),
        member("amina", "Amina", "en"),
        member("omar", "Omar", "fr"),
    ):
        await publish(world.platform, registered)
    # Members and matches come on different streams, in no set order: the owner is told the name of
    # who accepted, and each member is told in their language, once notifications knows them (their
    # welcomes show it does).
    for sub in ("fatima", "amina", "omar"):
        await world.told(sub, "welcome")
    await publish(world.platform, project())
    await publish(world.platform, proposal("fatima", "m-1"))
    await publish(world.platform, proposal("omar", "m-2"))
    await publish(
        world.platform,
        MatchAccepted(match_id="m-1", project_id="p-health", need_id="n-solar", member_id="fatima"),
    )
    await publish(
        world.platform,
        MatchConfirmed(match_id="m-1", project_id="p-health", need_id="n-solar", member_id="fatima"),
    )
    await publish(
        world.platform,
        MatchWithdrawn(
            match_id="m-2", project_id="p-health", need_id="n-solar", member_id="omar", reason="need_filled"
        ),
    )
    await publish(world.platform, pledge("pl-1", "omar", "250.00"))

    [accepted] = await world.told("amina", "match_accepted")
    assert accepted["title"] == "Fatima accepted to help with Solar health post"
    [confirmed] = await world.told("fatima", "match_confirmed")
    assert confirmed["title"] == "C'est confirmé : Solar health post"
    [withdrawn] = await world.told("omar", "match_withdrawn")
    assert "le projet a trouvé toutes les personnes dont il avait besoin" in withdrawn["body"]
    [pledged] = await world.told("amina", "pledge_made")
    assert (
        pledged["title"] == "A pledge for Solar health post: 250.00 EUR" and "Omar pledged" in pledged["body"]
    )


async def test_project_news_go_to_attached_members_who_asked_and_the_goal_to_the_owner_and_every_pledger(
    world: World,
) -> None:
    await publish(world.platform, member("amina", "Amina", "en"))
    await publish(world.platform, member("hassan", "Hassan", "fr"))  # attached, asked for news of the region
    await publish(world.platform, member("leila", "Leila", "fr"))  # attached, did not ask
    await publish(
        world.platform, member("paul", "Paul", "fr", territory="souss")
    )  # asked, attached elsewhere
    await publish(world.platform, member("claire", "Claire", "fr", territory="dakar"))
    await eventually(lambda: world.platform.drained("MEMBERS", "notifications__MemberRegistered_v1", 5))
    news = {"territory_news": ["souss"]}
    await world.platform.call("PUT", "/notification-preferences/hassan", "hassan", json=news, expect=200)
    await world.platform.call("PUT", "/notification-preferences/paul", "paul", json=news, expect=200)
    await world.platform.call(
        "PUT", "/notification-preferences/claire", "claire", json={"territory_news": ["tafraout"]}, expect=200
    )
    await publish(world.platform, project())

    [announced] = await world.told("hassan", "project_published")
    assert announced["title"] == "Un nouveau projet à Tafraout : Solar health post"
    await world.told("paul", "project_published")  # attached to Souss-Massa, where Tafraout lies
    await eventually(lambda: world.platform.drained("PROJECTS", "notifications__ProjectPublished_v1"))
    for not_asked in ("leila", "claire", "amina"):
        assert [n["kind"] for n in await world.inbox(not_asked)] == ["welcome"]

    # The goal's news waits for the pledges that reached it, whatever the order they arrive in.
    await publish(world.platform, pledge("pl-1", "leila", "400.00"))
    await publish(world.platform, FundingGoalReached(project_id="p-health", total="1000.00", currency="EUR"))
    await publish(world.platform, pledge("pl-2", "claire", "600.00"))
    for told in ("amina", "leila", "claire"):
        [goal] = await world.told(told, "funding_goal_reached")
        assert "1000.00 EUR" in goal["body"]
    assert [n["kind"] for n in await world.inbox("hassan")].count("funding_goal_reached") == 0


async def test_webhooks_are_signed_for_the_member_and_private_targets_are_refused(world: World) -> None:
    refused = {
        "http://10.0.0.5/hook": "10.0.0.5",
        "http://169.254.169.254/latest/meta-data": "169.254.169.254",
        "http://[::1]:8080/hook": "::1",
        "http://192.168.1.20/hook": "192.168.1.20",
        "ftp://example.org/hook": "https://",
    }
    for url, said in refused.items():
        response = await world.platform.http.put(
            "/notification-preferences/amina", json={"webhook_url": url}, headers=world.platform.as_("amina")
        )
        assert response.status_code == 422, url
        assert response.headers["content-type"] == "application/problem+json"
        assert said in response.json()["detail"] and "webhook_url" in response.text
    await world.platform.call(
        "PUT", "/notification-preferences/amina", "omar", json={"webhook_url": world.webhooks.url}, expect=403
    )

    wanted = {
        "webhook_url": world.webhooks.url,
        "channels": {"welcome": ["inbox"], "pledge_made": ["webhook"]},
    }
    saved = await world.platform.call(
        "PUT", "/notification-preferences/amina", "amina", json=wanted, expect=200
    )
    secret = saved["webhook_secret"]
    assert secret and saved["channels"]["pledge_made"] == ["inbox", "webhook"]
    assert saved["channels"]["match_proposed"] == ["inbox", "email", "webhook"]  # the default
    read = await world.platform.call("GET", "/notification-preferences/amina", "amina", expect=200)
    again = await world.platform.call(
        "PUT", "/notification-preferences/amina", "amina", json=read, expect=200
    )
    assert again == read and again["webhook_secret"] == secret  # GET's answer PUT back; secret kept
    await world.platform.call(
        "PUT", "/notification-preferences/amina", "amina", json={**read, "member_id": "omar"}, expect=422
    )
    rotated = await world.platform.call(
        "PUT",
        "/notification-preferences/amina",
        "amina",
        json={**wanted, "rotate_webhook_secret": True},
        expect=200,
    )
    assert rotated["webhook_secret"] != secret
    old_secret, secret = secret, rotated["webhook_secret"]
    await publish(world.platform, member("amina", "Amina", "fr"))
    await publish(world.platform, member("omar", "Omar", "fr"))
    await publish(world.platform, project())
    cause = await publish(world.platform, pledge("pl-1", "omar", "250.00"))

    [call] = await eventually(lambda: _async(world.webhooks.requests))
    assert call.path == "/hooks/passerelle"
    timestamp, signature = call.headers["x-passerelle-timestamp"], call.headers["x-passerelle-signature"]
    assert verify(secret, timestamp, call.body, signature)
    assert not verify("whsec_someone-else", timestamp, call.body, signature)
    assert not verify(secret, timestamp, call.body + b" ", signature)
    # Standard Webhooks, checked by the official verifier: with the new secret, and with the old one
    # during the rotation's overlap (both signatures are sent).
    assert call.headers["webhook-id"] == call.headers["x-passerelle-delivery"]
    assert len(call.headers["webhook-signature"].split(" ")) == 2
    for either in (secret, old_secret):
        assert Webhook(either).verify(call.body, call.headers) == json.loads(call.body)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(call.body, call.headers)
    payload = json.loads(call.body)
    [told] = payload["notifications"]
    assert (told["kind"], told["cause_event_id"], told["data"]["amount"]) == ("pledge_made", cause, "250.00")
    assert told["title"] == "Une promesse de don pour Solar health post : 250.00 EUR"
    assert (
        world.mailbox.to("amina@example.org") == []
    )  # she chose the webhook alone for pledges, no welcome e-mail


async def test_failed_sends_are_retried_with_back_off_and_end_as_notification_failed(world: World) -> None:
    world.mailbox.refusals = 2  # the mail server is busy twice, then accepts
    world.webhooks.statuses = [500, 502, 503, 500]  # the receiver is down for good
    await world.platform.call(
        "PUT", "/notification-preferences/awa", "awa", json={"webhook_url": world.webhooks.url}, expect=200
    )
    cause = await publish(world.platform, member("awa", "Awa", "fr"))

    [welcome] = await _emails_to(world, "awa@example.org")
    assert welcome["Subject"] == "Bienvenue sur Passerelle, Awa" and world.mailbox.tries == 3
    [failed] = await world.platform.published("NOTIFICATIONS", "NotificationFailed")
    assert failed["data"]["channel"] == "webhook" and failed["data"]["cause_event_id"] == cause
    assert "answered 5" in failed["data"]["error"]
    assert len(world.webhooks.requests) == 3  # the first try and two retries ([0.2, 0.4] s in tests)
    assert len({r.headers["x-passerelle-delivery"] for r in world.webhooks.requests}) == 1

    log = {entry["channel"]: entry for entry in await world.log(member_id="awa")}
    assert (log["email"]["status"], log["email"]["attempts"]) == ("delivered", 3)
    assert (log["webhook"]["status"], log["webhook"]["attempts"]) == ("failed", 3)
    assert "answered" in log["webhook"]["error"]
    assert log["inbox"]["status"] == "delivered"
    delivered = await world.platform.published("NOTIFICATIONS", "NotificationDelivered", 2)
    assert sorted(e["data"]["channel"] for e in delivered if e["data"]["member_id"] == "awa") == [
        "email",
        "inbox",
    ]
    await world.platform.call("GET", "/notification-deliveries", "awa", expect=403)  # operators only


async def test_a_daily_digest_gathers_everything_and_goes_at_the_members_local_hour(world: World) -> None:
    await publish(world.platform, member("amina", "Amina", "fr", time_zone="Africa/Casablanca"))
    await world.told("amina", "welcome")
    await _emails_to(world, "amina@example.org")
    saved = await world.platform.call(
        "PUT",
        "/notification-preferences/amina",
        "amina",
        json={"digest": "daily", "digest_hour": 19},
        expect=200,
    )
    assert (saved["digest"], saved["time_zone"]) == ("daily", "Africa/Casablanca")
    await publish(world.platform, member("omar", "Omar", "fr"))
    await publish(world.platform, project())
    for number, amount in enumerate(("100.00", "200.00", "300.00")):
        await publish(world.platform, pledge(f"pl-{number}", "omar", amount))

    pledges = await world.told("amina", "pledge_made", 3)  # the inbox is never held back
    pending = [e for e in await world.log(member_id="amina", channel="email", status="pending")]
    assert len(pending) == 3 and len({e["message_id"] for e in pending}) == 1
    due = datetime.fromisoformat(pending[0]["next_try_at"])
    assert due == next_digest_at(datetime.now(UTC), "Africa/Casablanca", 19, "daily")
    assert len(world.mailbox.to("amina@example.org")) == 1  # the welcome only

    await world.time_passes("amina")
    [_, digest] = await _emails_to(world, "amina@example.org", 2)
    assert digest["Subject"] == "Vos nouvelles de Passerelle : 3 messages"
    text = digest.get_body(("plain",)).get_content()
    assert all(n["title"] in text for n in pledges)

    # Back to immediate: what gathers since goes out at once.
    await publish(world.platform, pledge("pl-late", "omar", "50.00"))
    await world.told("amina", "pledge_made", 4)
    await world.platform.call("PUT", "/notification-preferences/amina", "amina", json={}, expect=200)
    await _emails_to(world, "amina@example.org", 3)


async def test_an_event_delivered_twice_is_told_once_per_channel(world: World) -> None:
    await world.platform.call(
        "PUT",
        "/notification-preferences/fatima",
        "fatima",
        json={"webhook_url": world.webhooks.url},
        expect=200,
    )
    await publish(world.platform, member("fatima", "Fatima", "fr"))
    await publish(world.platform, project())
    event = envelope(proposal("fatima"))
    await publish(world.platform, event)
    await publish(world.platform, event)
    await eventually(
        lambda: world.platform.drained("MATCHING", "notifications__MatchProposed_v1", delivered=2)
    )

    assert len(await world.told("fatima", "match_proposed")) == 1
    log = await eventually(lambda: _sent(world, cause_event_id=event.id))
    assert sorted(e["channel"] for e in log) == ["email", "inbox", "webhook"]
    await eventually(lambda: _async(len(world.webhooks.requests) >= 2))  # welcome and the match
    kinds = [json.loads(r.body)["notifications"][0]["kind"] for r in world.webhooks.requests]
    assert sorted(kinds) == ["match_proposed", "welcome"]
    assert [e["Subject"] for e in world.mailbox.to("fatima@example.org")].count(
        "Un projet à Tafraout a besoin de vous : Solar health post"
    ) == 1


async def test_nothing_is_sent_after_erasure_even_what_was_waiting(world: World) -> None:
    await world.platform.call(
        "PUT", "/notification-preferences/claire", "claire", json={"digest": "weekly"}, expect=200
    )
    await publish(world.platform, member("claire", "Claire", "fr"))
    await publish(world.platform, project())
    await publish(world.platform, proposal("claire", "m-1"))
    await world.told("claire", "match_proposed")
    assert len(await world.log(member_id="claire", channel="email", status="pending")) == 2  # in her digest

    await publish(world.platform, MemberErased(member_id="claire"))
    await eventually(lambda: world.platform.drained("MEMBERS", "notifications__MemberErased_v1"))
    await publish(world.platform, proposal("claire", "m-2"))  # still in flight when she left
    await publish(
        world.platform,
        MatchConfirmed(match_id="m-1", project_id="p-health", need_id="n-solar", member_id="claire"),
    )
    await eventually(
        lambda: world.platform.drained("MATCHING", "notifications__MatchProposed_v1", delivered=2)
    )
    await eventually(lambda: world.platform.drained("MATCHING", "notifications__MatchConfirmed_v1"))
    await world.time_passes("claire")

    assert await world.log(member_id="claire") == []
    assert world.mailbox.to("claire@example.org") == []
    contacts = await world.sql("SELECT display_name, email, erased FROM contacts WHERE member_id = 'claire'")
    assert [tuple(row) for row in contacts] == [(None, None, True)]
    for table in ("notifications", "messages", "preferences"):
        assert await world.sql(f"SELECT 1 FROM {table} WHERE member_id = 'claire'") == []


async def _sent(world: World, **params: str) -> list[dict[str, Any]]:
    log = await world.log(**params)
    return log if log and all(entry["status"] == "delivered" for entry in log) and len(log) >= 3 else []


async def _async(value: Any) -> Any:
    return value


async def test_an_erased_members_emails_written_as_files_go_with_them(platform: Platform) -> None:
    mail_dir = platform.settings.mail_dir
    assert mail_dir is not None
    for member_id in ("claire", "omar"):
        await publish(platform, member(member_id, member_id.title(), "fr"))

    async def files() -> list[Path]:
        found = sorted(mail_dir.glob("*.eml"))
        return found if len(found) == 2 else []

    await eventually(files)
    await publish(platform, MemberErased(member_id="claire"))
    await eventually(lambda: platform.drained("MEMBERS", "notifications__MemberErased_v1"))

    [kept] = sorted(mail_dir.glob("*.eml"))
    assert "omar@example.org" in kept.read_text() and "claire" not in kept.read_text()
