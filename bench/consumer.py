"""What our consumer stack costs: events/s through our pull loop, validation, the inbox and the ack,
against a raw nats-py pull consumer that only validates and acks, same server, same events, same run.

    make bench                                   # all benchmarks
    uv run python bench/consumer.py --events 20000

Both consumers read the same SkillOffered events (contract payloads, stored once in the MEMBERS
stream) through durable pull consumers of their own: raw nats-py in pulls of `--batch`, ours as the
services run (a service's real subscriber, `EventConsumers.on`, on the broker `make_broker` makes,
its pull loop taking up to `--batch` at once): the envelopes are validated, the pull's events are
claimed in the service's inbox in PostgreSQL (what makes a redelivery harmless) in one unit of work,
and acked after the commit; its handler itself does nothing, so what is measured is the stack. Our
stack runs again with tracing on (PASSERELLE_TRACING=otlp as the services do it, its spans exported
to nowhere: what is measured is making them, not a collector), the events carrying a trace context
as a traced producer records them. Each consumer runs alone, `--rounds` times, alternating; the best
round of each is kept. Writes bench/results/consumer.json.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import harness
import nats
from harness import RESULTS, PlatformSettings
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

# The stack under measurement.
from passerelle.contracts import CloudEvent, SkillOffered, envelope, envelope_type
from passerelle.messaging.broker import make_broker
from passerelle.messaging.consumers import EventConsumers
from passerelle.messaging.tables import messaging_metadata
from passerelle.messaging.topology import Subscription, TopologySettings, consumer_config, provision
from passerelle.messaging.tracing import tracing_into
from passerelle.messaging.unit_of_work import SessionUnitOfWork, no_repository, units
from passerelle.persistence.database import Database, ensure_database
from passerelle.runtime.logging import configure_logging

TARGET_RATIO = 0.6
SERVICE = "bench"  # a consumer of SkillOffered of its own, with its own database
CONSUMED = {SERVICE: (SkillOffered,)}


# As a traced producer records them: every event carries the context of the request that made it.
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def offer_event(n: int) -> CloudEvent[SkillOffered]:
    event = envelope(
        SkillOffered(
            member_id=f"member-{n % 5000}",
            offer_id=f"offer-{n}",
            skill="solar_pv_installation",
            level=4,
            modes=["remote", "short_mission"],
            languages=["fr", "ar"],
            sectors=["energy"],
        )
    )
    return event.model_copy(update={"traceparent": TRACEPARENT})


async def publish_events(js: Any, count: int) -> None:
    for start in range(0, count, 500):
        batch = [offer_event(n) for n in range(start, min(count, start + 500))]
        await asyncio.gather(
            *(
                js.publish(SkillOffered.subject, e.to_json(), stream="MEMBERS", headers=e.nats_headers())
                for e in batch
            )
        )


async def raw_round(js: Any, count: int, batch: int, name: str) -> float:
    """nats-py alone: fetch a batch, validate each envelope, ack each."""
    model = envelope_type(SkillOffered)
    await js.add_consumer(
        "MEMBERS",
        ConsumerConfig(
            durable_name=name,
            filter_subject=SkillOffered.subject,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            max_ack_pending=1000,
        ),
    )
    subscription = await js.pull_subscribe(SkillOffered.subject, durable=name, stream="MEMBERS")
    handled = 0
    started = time.perf_counter()
    while handled < count:
        for message in await subscription.fetch(batch=batch, timeout=5):
            model.model_validate_json(message.data)
            await message.ack()
            handled += 1
    await harness.drained(js, "MEMBERS", name, poll=0.01)
    took = time.perf_counter() - started
    await subscription.unsubscribe()
    return count / took


async def stack_round(settings: PlatformSettings, js: Any, database_url: str, count: int) -> float:
    """Our stack: the service's broker and delivery policy, an `EventConsumers` subscriber, its pulls."""
    sub = Subscription(SERVICE, SkillOffered)
    await js.add_consumer("MEMBERS", consumer_config(sub, TopologySettings()))
    database = Database(database_url)
    broker, delivery = make_broker(settings, SERVICE)
    consumers = EventConsumers(
        broker,
        SERVICE,
        units(database, no_repository),
        consumes=CONSUMED[SERVICE],
        workers=settings.consumer_batch,
        delivery=delivery,
    )
    handled = 0
    finished = asyncio.Event()

    @consumers.on(SkillOffered)
    async def nothing_more(event: CloudEvent[SkillOffered], uow: SessionUnitOfWork) -> None:
        nonlocal handled
        handled += 1
        if handled == count:
            finished.set()

    started = time.perf_counter()
    await broker.start()
    try:
        await asyncio.wait_for(finished.wait(), timeout=600)
        await harness.drained(js, "MEMBERS", sub.durable, poll=0.01)
        took = time.perf_counter() - started
    finally:
        await broker.stop()
        await consumers.drain()
        await database.dispose()
    await js.delete_consumer("MEMBERS", sub.durable)  # the next round starts from the first event
    return count / took


class Discarded(SpanExporter):
    """Spans made, batched and dropped: the cost of tracing in the service, without a collector's."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


async def traced_round(settings: PlatformSettings, js: Any, database_url: str, count: int) -> float:
    """Our stack with tracing on: a consumer span per event, a span per database statement."""
    with tracing_into(BatchSpanProcessor(Discarded())):  # before the round's engine, as a service starts
        return await stack_round(settings, js, database_url, count)


async def fresh_inbox(database_url: str) -> None:
    """An empty inbox, so that every round claims every event."""
    database = Database(database_url)
    async with database.engine.begin() as connection:
        await connection.run_sync(messaging_metadata.drop_all)
        await connection.run_sync(messaging_metadata.create_all)
    await database.dispose()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with harness.scratch("passerelle-bench-consumer-") as scratch:
        async with (
            harness.nats_server(scratch) as server,
            harness.postgres_server(scratch, durable=False) as postgres,
        ):
            settings = PlatformSettings(nats_url=server.url, consumer_batch=args.batch)
            database_url = postgres.url("passerelle_bench")
            await ensure_database(database_url)
            connection = await nats.connect(server.url)
            js = connection.jetstream()
            await provision(js, TopologySettings(), CONSUMED)
            await publish_events(js, args.events)
            print(f"  {args.events:,} SkillOffered events stored; {args.batch} at a time", flush=True)
            raw, ours, traced = [], [], []
            for n in range(args.rounds):
                raw.append(await raw_round(js, args.events, args.batch, f"bench_raw_{n}"))
                await fresh_inbox(database_url)
                ours.append(await stack_round(settings, js, database_url, args.events))
                await fresh_inbox(database_url)
                traced.append(await traced_round(settings, js, database_url, args.events))
                print(
                    f"  round {n + 1}: raw nats-py {raw[-1]:,.0f}/s, our stack {ours[-1]:,.0f}/s,"
                    f" traced {traced[-1]:,.0f}/s",
                    flush=True,
                )
            await connection.close()
    best_raw, best_ours, best_traced = max(raw), max(ours), max(traced)
    return {
        "events": args.events,
        "batch": args.batch,
        "rounds": args.rounds,
        "raw_nats_py_per_s": best_raw,
        "our_stack_per_s": best_ours,
        "ratio": best_ours / best_raw,
        "our_stack_traced_per_s": best_traced,
        "traced_ratio": best_traced / best_raw,
        "target_ratio": TARGET_RATIO,
        "target_met": best_ours / best_raw >= TARGET_RATIO,
        "all_rounds": {"raw_nats_py_per_s": raw, "our_stack_per_s": ours, "our_stack_traced_per_s": traced},
    }


def report(result: dict[str, Any]) -> None:
    print(f"\nConsumer overhead, {result['events']:,} SkillOffered events, {result['batch']} at a time")
    print(f"{'':40} {'events/s':>10}")
    print(f"{'raw nats-py (validate, ack)':40} {result['raw_nats_py_per_s']:>10,.0f}")
    print(f"{'our stack (validate, inbox, ack)':40} {result['our_stack_per_s']:>10,.0f}")
    met = "yes" if result["target_met"] else "NO"
    print(f"{'our stack, tracing on':40} {result['our_stack_traced_per_s']:>10,.0f}")
    print(f"{'ratio, tracing off':40} {result['ratio']:>10.2f}   target >= {TARGET_RATIO}: {met}")
    print(f"{'ratio, tracing on':40} {result['traced_ratio']:>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=PlatformSettings().consumer_batch)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "consumer.json")
    args = parser.parse_args()
    configure_logging("INFO", json=True)  # as a service runs in production
    print(f"Consumer overhead: {args.events:,} events, {args.rounds} rounds ...", flush=True)
    result = asyncio.run(run(args))
    report(result)
    harness.write_result(args.out, result)


if __name__ == "__main__":
    main()
