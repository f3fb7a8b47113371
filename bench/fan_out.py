"""Territory news to N members: how long until every inbox message is stored, how long the longest
transaction lasts (it must stay far below the consumers' ack wait, whatever N), and whether the time
grows linearly with N; against a floor measured in the same run and database: one INSERT ... SELECT
that writes the same N inbox rows in a single statement, with nothing rendered and nothing recorded.

    make bench                                   # all benchmarks
    uv run python bench/fan_out.py --members 1000 10000 100000

The notifications service's own use cases run on its migrated database (embedded PostgreSQL,
durable): `announce_project` in the event's unit of work (it keeps the news), then
`tell_news_chunk` until no news is left, each chunk its own transaction, as its worker runs them.
Every member is attached to the commune and asked for its news, with the default channels (inbox and
e-mail: one notification each, one message to send, one NotificationDelivered in the outbox).
Writes bench/results/fan_out.json.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

import harness
from harness import RESULTS

# The code under measurement.
from notifications.handlers import NEWS_CHUNK, NotificationsHandlers
from notifications.repository import NotificationsRepository
from notifications.webhooks import allowed_networks
from passerelle.contracts import ProjectPublished, envelope
from passerelle.messaging.unit_of_work import units
from passerelle.persistence.database import Database
from passerelle.runtime.logging import configure_logging
from passerelle.taxonomy import load_taxonomy
from sqlalchemy import text

ACK_WAIT = 60.0  # the consumers' default: no transaction may come near it
TARGET_10K_SECONDS = 5.0

MEMBERS = """
INSERT INTO contacts (member_id, display_name, email, locale, time_zone, attachments, managers, erased, as_of)
SELECT 'member-' || lpad(n::text, 7, '0'), 'Member ' || n, 'member-' || n || '@example.org',
       (ARRAY['fr', 'ar', 'en'])[1 + n % 3], 'Europe/Paris', '["tafraout"]', '[]', false, now()
FROM generate_series(1, :n) AS n;
INSERT INTO preferences (member_id, channels, digest, digest_hour, territory_news, updated_at)
SELECT member_id, '{}', 'immediate', 8, '["tafraout"]', now() FROM contacts
"""
FLOOR = """
INSERT INTO notifications (notification_id, member_id, channel, kind, language, title, body, data,
                           cause_event_id, status, delivered_at)
SELECT gen_random_uuid()::text, member_id, 'inbox', 'project_published', 'fr', 'A new project', 'Body',
       '{}', 'floor', 'delivered', now()
FROM preferences WHERE territory_news ? 'tafraout'
"""
CLEAN = (
    "TRUNCATE contacts, preferences, notifications, messages, fan_outs, passerelle_outbox,"
    " territories, projects"
)


def project() -> ProjectPublished:
    return ProjectPublished(
        project_id="p-solar",
        territory_id="tafraout",
        owner_member_id="member-owner",
        title="Solar health post",
        summary="Power the health post of Tafraout with solar panels.",
        sector="energy",
        languages=["fr"],
        needs=[],
    )


async def sql(database: Database, statement: str, **values: Any) -> None:
    async with database.sessions() as session, session.begin():
        for part in statement.split(";"):
            await session.execute(text(part), values if ":" in part else {})


async def one_size(database: Database, members: int, chunk: int) -> dict[str, Any]:
    await sql(database, CLEAN)
    await sql(database, MEMBERS, n=members)
    await sql(database, "INSERT INTO territories VALUES ('tafraout', 'Tafraout', NULL)")
    # A bulk load autovacuum would analyze within a minute: without statistics the planner reads
    # the whole table for each chunk instead of the chunk's members from the cursor.
    await sql(database, "ANALYZE contacts; ANALYZE preferences")
    handlers = NotificationsHandlers(
        units(database, NotificationsRepository),
        load_taxonomy(),
        allowed_networks([]),
        on_queued=lambda _: None,
        forget_emails=lambda _: None,
        news_chunk=chunk,
    )

    started = time.perf_counter()
    async with handlers.units() as uow:
        await handlers.announce_project(envelope(project()), uow)
        await uow.commit()
    event_seconds = time.perf_counter() - started
    longest, chunks = 0.0, 0
    while True:
        began = time.perf_counter()
        if not await handlers.tell_news_chunk():
            break
        longest, chunks = max(longest, time.perf_counter() - began), chunks + 1
    told_seconds = time.perf_counter() - started

    began = time.perf_counter()
    await sql(database, FLOOR)
    floor_seconds = time.perf_counter() - began
    async with database.sessions() as session:
        stored = await session.scalar(
            text("SELECT count(*) FROM notifications WHERE kind = 'project_published' AND channel = 'inbox'")
        )
    return {
        "members": members,
        "inbox_stored": (stored or 0) - members,  # less the floor's own rows
        "chunks": chunks,
        "event_transaction_s": event_seconds,
        "all_told_s": told_seconds,
        "longest_transaction_s": longest,
        "ms_per_1000_members": told_seconds / members * 1000 * 1000,
        "floor_s": floor_seconds,
        "ratio_to_floor": told_seconds / floor_seconds,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with harness.scratch("passerelle-bench-fan-out-") as scratch:
        async with harness.postgres_server(scratch) as postgres:
            await harness.prepare_databases(postgres.url("postgres"), ["notifications"])
            database = Database(harness.service_database_url(postgres.url("postgres"), "notifications"))
            try:
                sizes = []
                for members in args.members:
                    sizes.append(await one_size(database, members, args.chunk))
                    print(f"  {members:,} members told in {sizes[-1]['all_told_s']:.1f} s", flush=True)
            finally:
                await database.dispose()
    ten_thousand = next((size for size in sizes if size["members"] == 10_000), None)
    return {
        "chunk": args.chunk,
        "ack_wait_s": ACK_WAIT,
        "sizes": sizes,
        "target_10k_s": TARGET_10K_SECONDS,
        "target_10k_met": ten_thousand is not None and ten_thousand["all_told_s"] <= TARGET_10K_SECONDS,
        "every_transaction_within_ack_wait": all(s["longest_transaction_s"] < ACK_WAIT / 10 for s in sizes),
    }


def report(result: dict[str, Any]) -> None:
    print(f"\nTerritory news fan-out, {result['chunk']} members a transaction")
    print(
        f"{'members':>9} {'stored':>9} {'chunks':>7} {'event tx s':>10} {'all told s':>10} "
        f"{'longest tx s':>12} {'ms/1000':>8} {'floor s':>8} {'x floor':>8}"
    )
    for s in result["sizes"]:
        print(
            f"{s['members']:>9,} {s['inbox_stored']:>9,} {s['chunks']:>7} {s['event_transaction_s']:>10.3f} "
            f"{s['all_told_s']:>10.2f} {s['longest_transaction_s']:>12.3f} {s['ms_per_1000_members']:>8.0f} "
            f"{s['floor_s']:>8.3f} {s['ratio_to_floor']:>8.1f}"
        )
    met = "yes" if result["target_10k_met"] else "NO"
    within = "yes" if result["every_transaction_within_ack_wait"] else "NO"
    print(f"10,000 members told within {result['target_10k_s']:g} s: {met}")
    print(f"every transaction under a tenth of the {result['ack_wait_s']:g} s ack wait: {within}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--chunk", type=int, default=NEWS_CHUNK)
    parser.add_argument("--out", type=Path, default=RESULTS / "fan_out.json")
    args = parser.parse_args()
    configure_logging("WARNING", json=True)
    print(f"Fan-out: {', '.join(f'{n:,}' for n in args.members)} members ...", flush=True)
    result = asyncio.run(run(args))
    report(result)
    harness.write_result(args.out, result)


if __name__ == "__main__":
    main()
