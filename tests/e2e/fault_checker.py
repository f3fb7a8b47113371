"""The fault run's own checker: what the platform holds after the crashes (`observe`, read straight
from PostgreSQL and JetStream), and whether every acknowledged request has all its effects, once
(`check`, plain Python, so that it can be shown to fail on a state that lost something).

An effect is a tuple naming where it lives and its key, e.g. ("matching.members", member_id). What a
request should have caused follows from what exists at its source (members, offers, projects), so a
request that a kill cut off but that did commit is checked too: all of its effects, or it is half.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import nats

from .fault_load import Ack, Ledger
from .fault_platform import Servers

Effect = tuple[str, ...]
SERVICES = ("members", "projects", "matching", "notifications")
STREAMS = ("MEMBERS", "PROJECTS", "MATCHING", "NOTIFICATIONS")
CHANNELS = ("inbox", "email")  # the default channels of a member without a webhook
LATE_AFTER = 15.0  # seconds from the acknowledgement: later than any path without a crash takes


@dataclass
class Observed:
    """What the platform holds: each effect with how many times it is there."""

    effects: Counter[Effect] = field(default_factory=Counter)
    times: dict[Effect, float] = field(default_factory=dict)  # when an effect came, where it is known
    offers: dict[str, tuple[str, str]] = field(default_factory=dict)  # offer_id -> member_id, skill
    needs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # project -> need_id, skill
    match_ids: dict[tuple[str, str], str] = field(default_factory=dict)  # need, offer -> match_id
    notification_ids: dict[Effect, str] = field(default_factory=dict)  # notice -> notification_id
    message_ids: dict[Effect, str] = field(default_factory=dict)  # e-mail notice -> its message
    event_ids: Counter[str] = field(default_factory=Counter)  # CloudEvent id -> messages stored
    outbox: dict[str, int] = field(default_factory=dict)
    dead_letters: list[str] = field(default_factory=list)

    def add(self, effect: Effect, at: datetime | float | None = None) -> None:
        self.effects[effect] += 1
        if at is not None:
            moment = at.timestamp() if isinstance(at, datetime) else at
            self.times[effect] = max(moment, self.times.get(effect, moment))


@dataclass
class Verdict:
    acknowledged: int
    lost: int
    duplicated: int
    late: int
    half: int  # effects missing of a request that got no answer but did commit
    unexpected: int  # effects no request explains
    checked: int  # effects looked for
    problems: list[str]
    resent: list[str]  # e-mails written again: a kill between a send and its commit (at least once)

    def summary(self) -> str:
        return (
            f"fault run: acknowledged={self.acknowledged} lost={self.lost} "
            f"duplicated={self.duplicated} late={self.late}"
        )


# What each kind of source object should have caused; a match needs an offer and a published project.


def _territory(territory_id: str) -> list[Effect]:
    return [
        ("territory", territory_id),
        ("matching.territories", territory_id),
        ("notifications.territories", territory_id),
        ("event", "TerritoryRegistered", territory_id),
    ]


def _member(member_id: str) -> list[Effect]:
    return [
        ("member", member_id),
        ("projects.member_facts", member_id),
        ("matching.members", member_id),
        ("notifications.contacts", member_id),
        ("event", "MemberRegistered", member_id),
        *(("notice", "welcome", channel, member_id, member_id, "delivered") for channel in CHANNELS),
    ]


def _offer(offer_id: str) -> list[Effect]:
    return [("offer", offer_id), ("matching.offers", offer_id), ("event", "SkillOffered", offer_id)]


def _published(project_id: str) -> list[Effect]:
    return [
        ("published", project_id),
        ("matching.projects", project_id),
        ("notifications.projects", project_id),
        ("event", "ProjectPublished", project_id),
    ]


def _match(seen: Observed, need_id: str, offer_id: str, member_id: str) -> list[Effect]:
    match_id = seen.match_ids.get((need_id, offer_id), f"(no match of {need_id} and {offer_id})")
    return [
        ("match", need_id, offer_id, member_id, "proposed"),
        ("event", "MatchProposed", need_id, offer_id),
        *(("notice", "match_proposed", channel, member_id, match_id, "delivered") for channel in CHANNELS),
    ]


ENTITY_OF_ACK = {
    "territory": "territory",
    "register": "member",
    "offer": "offer",
    "create": "project",
    "publish": "published",
}


def expected(ledger: Ledger, seen: Observed) -> dict[Effect, set[Effect]]:
    """Every effect that should exist once, with the source objects that call for it."""
    keys: dict[str, set[str]] = {kind: set() for kind in ENTITY_OF_ACK.values()}
    for effect in seen.effects:
        if effect[0] in keys:
            keys[effect[0]].add(effect[1])
    for ack in ledger.acks:
        keys[ENTITY_OF_ACK[ack.kind]].add(ack.key)
    wanted: dict[Effect, set[Effect]] = {}

    def want(effects: Iterable[Effect], *because: Effect) -> None:
        for effect in effects:
            wanted.setdefault(effect, set()).update(because)

    for territory_id in keys["territory"]:
        want(_territory(territory_id), ("territory", territory_id))
    for member_id in keys["member"]:
        want(_member(member_id), ("member", member_id))
    for offer_id in keys["offer"]:
        want(_offer(offer_id), ("offer", offer_id))
    for project_id in keys["project"]:
        want([("project", project_id)], ("project", project_id))
    for project_id in keys["published"]:
        want(_published(project_id), ("published", project_id))
        for need_id, skill in seen.needs.get(project_id, []):
            for offer_id in keys["offer"]:
                member_id, offered = seen.offers.get(offer_id, ("", ""))
                if offered == skill:
                    because = (("published", project_id), ("offer", offer_id), ("member", member_id))
                    want(_match(seen, need_id, offer_id, member_id), *because)
    # Every notice delivered is announced by one NotificationDelivered, and one sent by e-mail is in
    # the mail directory; both caused by what caused the notice.
    for effect, causes in list(wanted.items()):
        if effect[0] == "notice" and effect in seen.notification_ids:
            want([("event", "NotificationDelivered", seen.notification_ids[effect])], *causes)
        if effect[0] == "notice" and effect in seen.message_ids:
            want([("mail", seen.message_ids[effect])], *causes)
    return wanted


def check(ledger: Ledger, seen: Observed) -> Verdict:
    wanted = expected(ledger, seen)
    missing = {effect for effect in wanted if not seen.effects[effect]}
    acked_at = {(ENTITY_OF_ACK[ack.kind], ack.key): ack.at for ack in ledger.acks}
    problems: list[str] = []
    lost = late = 0
    explained: set[Effect] = set()
    for ack in ledger.acks:
        entity = (ENTITY_OF_ACK[ack.kind], ack.key)
        effects = [effect for effect, causes in wanted.items() if entity in causes]
        explained.update(effects)
        gone = [effect for effect in effects if effect in missing]
        if gone:
            lost += 1
            problems.append(f"lost: {ack} answered 2xx, but missing {_show(gone)}")
        elif _late(ack, effects, wanted, seen, acked_at, ledger.kills):
            late += 1
    half = sorted(missing - explained)
    if half:
        problems.append(f"half: a request cut by a kill committed, but missing {_show(half)}")
    twice = {effect: count for effect, count in seen.effects.items() if count > 1}
    resent = sorted(f"{_show([effect])} x{count}" for effect, count in twice.items() if effect[0] == "mail")
    duplicated = [f"{_show([effect])} x{count}" for effect, count in twice.items() if effect[0] != "mail"]
    duplicated += [f"event id {event_id} x{count}" for event_id, count in seen.event_ids.items() if count > 1]
    if duplicated:
        problems.append(f"duplicated: {', '.join(sorted(duplicated))}")
    unexpected = sorted(effect for effect in seen.effects if effect not in wanted)
    if unexpected:
        problems.append(f"unexpected: {_show(unexpected)}")
    if any(seen.outbox.values()):
        problems.append(f"outbox rows left: {seen.outbox}")
    if seen.dead_letters:
        problems.append(f"dead-lettered: {seen.dead_letters}")
    problems += [f"refused: {refusal}" for refusal in ledger.refused]
    return Verdict(
        len(ledger.acks),
        lost,
        len(duplicated),
        late,
        len(half),
        len(unexpected),
        len(wanted),
        problems,
        resent,
    )


def _late(
    ack: Ack,
    effects: list[Effect],
    wanted: dict[Effect, set[Effect]],
    seen: Observed,
    acked_at: dict[Effect, float],
    kills: list[float],
) -> bool:
    """An effect came long after it could (the last acknowledgement it needed), or only after a kill."""
    for effect in effects:
        came = seen.times.get(effect)
        if came is None:
            continue
        due = max([ack.at, *(acked_at[cause] for cause in wanted[effect] if cause in acked_at)])
        if came > due + LATE_AFTER or any(due < kill < came for kill in kills):
            return True
    return False


def _show(effects: Iterable[Effect], most: int = 8) -> str:
    effects = list(effects)
    shown = ", ".join("/".join(effect) for effect in effects[:most])
    return shown + (f" and {len(effects) - most} more" if len(effects) > most else "")


# Reading the platform's state


@contextlib.asynccontextmanager
async def _database(servers: Servers, service: str) -> Any:
    connection = await asyncpg.connect(**servers.database(service))
    try:
        yield connection
    finally:
        await connection.close()


async def observe(servers: Servers, mail_dir: Path) -> Observed:
    seen = Observed()
    async with _database(servers, "members") as db:
        for row in await db.fetch("SELECT member_id FROM members"):
            seen.add(("member", row["member_id"]))
        for row in await db.fetch("SELECT offer_id, member_id, skill FROM skill_offers"):
            seen.add(("offer", row["offer_id"]))
            seen.offers[row["offer_id"]] = (row["member_id"], row["skill"])
    async with _database(servers, "projects") as db:
        for row in await db.fetch("SELECT territory_id FROM territories"):
            seen.add(("territory", row["territory_id"]))
        for row in await db.fetch("SELECT project_id, status, needs FROM projects"):
            seen.add(("project", row["project_id"]))
            if row["status"] == "published":
                seen.add(("published", row["project_id"]))
            seen.needs[row["project_id"]] = [(n["need_id"], n["skill"]) for n in json.loads(row["needs"])]
        await _read_model(seen, db, "projects", "member_facts", "member_id")
    async with _database(servers, "matching") as db:
        await _read_model(seen, db, "matching", "members", "member_id")
        await _read_model(seen, db, "matching", "offers", "offer_id")
        await _read_model(seen, db, "matching", "projects", "project_id")
        await _read_model(seen, db, "matching", "territories", "territory_id")
        for row in await db.fetch(
            "SELECT match_id, need_id, offer_id, member_id, status, created_at FROM matches"
        ):
            key = ("match", row["need_id"], row["offer_id"], row["member_id"], row["status"])
            seen.add(key, row["created_at"])
            seen.match_ids[(row["need_id"], row["offer_id"])] = row["match_id"]
    async with _database(servers, "notifications") as db:
        await _read_model(seen, db, "notifications", "contacts", "member_id")
        await _read_model(seen, db, "notifications", "projects", "project_id")
        await _read_model(seen, db, "notifications", "territories", "territory_id")
        for row in await db.fetch(
            "SELECT notification_id, member_id, channel, kind, status, data, message_id, created_at "
            "FROM notifications"
        ):
            subject = json.loads(row["data"]).get("match_id", row["member_id"])
            key = ("notice", row["kind"], row["channel"], row["member_id"], subject, row["status"])
            seen.add(key, row["created_at"])
            seen.notification_ids[key] = row["notification_id"]
            if row["channel"] == "email" and row["message_id"]:
                seen.message_ids[key] = row["message_id"]
    for message_id in _mailed(mail_dir):
        seen.add(("mail", message_id))
    for service in SERVICES:
        async with _database(servers, service) as db:
            seen.outbox[service] = await db.fetchval("SELECT count(*) FROM passerelle_outbox")
    await _read_streams(seen, servers.nats_url)
    return seen


def _mailed(mail_dir: Path) -> list[str]:
    """The message id of every e-mail written, once per file: <message_id>.eml."""
    return [mail.name.removesuffix(".eml") for mail in mail_dir.glob("*.eml")]


async def _read_model(seen: Observed, db: asyncpg.Connection, service: str, table: str, key: str) -> None:
    for row in await db.fetch(f"SELECT {key} FROM {table}"):  # our own table names
        seen.add((f"{service}.{table}", row[key]))


def _event_key(name: str, data: dict[str, Any], subject: str) -> Effect:
    keys = {
        "TerritoryRegistered": (data.get("territory_id", ""),),
        "MemberRegistered": (data.get("member_id", ""),),
        "SkillOffered": (data.get("offer_id", ""),),
        "ProjectPublished": (data.get("project_id", ""),),
        "MatchProposed": (data.get("need_id", ""), data.get("offer_id", "")),
        "NotificationDelivered": (data.get("notification_id", ""),),
    }
    return ("event", name, *keys.get(name, (subject,)))


async def _read_streams(seen: Observed, nats_url: str) -> None:
    connection = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=3)
    try:
        js = connection.jetstream()
        for stream in (*STREAMS, "DLQ"):
            info = await js.stream_info(stream)
            if not info.state.messages:
                continue
            for sequence in range(info.state.first_seq, info.state.last_seq + 1):
                message = await js.get_msg(stream, seq=sequence)
                if stream == "DLQ":
                    seen.dead_letters.append(f"{message.subject}: {(message.data or b'')[:200]!r}")
                    continue
                body = json.loads(message.data or b"{}")
                seen.event_ids[body["id"]] += 1
                if seen.event_ids[body["id"]] > 1:
                    continue  # a stored duplicate is counted by id, not as a second effect
                name = body["type"].split(".")[2]
                seen.add(_event_key(name, body["data"], body["subject"]), message.time)
    finally:
        await connection.close()


async def pending_work(servers: Servers) -> dict[str, int]:
    """What is still on its way: outbox rows, unsent e-mails, undelivered or unacknowledged events."""
    work: dict[str, int] = {}
    for service in SERVICES:
        async with _database(servers, service) as db:
            work[f"{service} outbox"] = await db.fetchval("SELECT count(*) FROM passerelle_outbox")
            if service == "notifications":
                work["e-mails"] = await db.fetchval("SELECT count(*) FROM messages WHERE status = 'pending'")
    connection = await nats.connect(servers.nats_url, connect_timeout=5, max_reconnect_attempts=3)
    try:
        js = connection.jetstream()
        for stream in STREAMS:
            for consumer in await js.consumers_info(stream):
                work[f"{stream}/{consumer.name}"] = consumer.num_pending + consumer.num_ack_pending
    finally:
        await connection.close()
    return work


async def wait_until_quiet(servers: Servers, limit: float) -> tuple[dict[str, int], float]:
    """Poll until nothing is on its way twice in a row (or `limit` seconds pass): what is left, and
    how long it took."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    quiet_polls = 0
    while True:
        work = {where: count for where, count in (await pending_work(servers)).items() if count}
        quiet_polls = 0 if work else quiet_polls + 1
        if quiet_polls == 2 or loop.time() > started + limit:
            return work, loop.time() - started
        await asyncio.sleep(0.5)
