"""The platform's main job, end to end, under an open-loop load: a member offers a skill over HTTP and
the member finds the proposal in their inbox.

    make bench                                                # all benchmarks
    uv run python bench/end_to_end.py --stored 10000 --rates 10 50 100 --duration 5

One flow: POST /members/{id}/offers (members: validation, offer and outbox in one transaction) ->
SkillOffered relayed to JetStream -> matching ranks it against the open needs and records the match
-> MatchProposed relayed -> notifications stores the inbox message, e-mails it (an .eml file here)
-> NotificationDelivered (inbox). The flow's latency runs from the time its request was *scheduled*
to the moment this process receives that NotificationDelivered: the load is open loop (a request is
sent at its time whether or not earlier ones have answered), so a slow platform cannot slow the load
down and hide its own latency (coordinated omission). Latencies go into an HdrHistogram.

The four services run as four processes (`passerelle serve <service>`), as in Kubernetes, on an
embedded nats-server and a durable embedded PostgreSQL. Setup, through the same HTTP API: T
territories (communes), each with a published project of 5 needs on site, and one member with an
origin bond to each; the stored offers (`--stored`, remote offers of other members, long-tailed over
the taxonomy) are written straight into matching's database before it starts, as a large
community's history would be. Each flow offers a needed skill of the member's own commune, so it
enters that need's top k; no need gets more than k flows.

The floor, same run, same rates: a message through three hops, each a process of its own as each
service is (bench/floor_hops.py: a continuous pull, one INSERT per message for its claim, state and
what it passes on, a publish with PubAck, the ack), on the same nats-server and PostgreSQL. Its
latency and its CPU per message (the hops, nats-server, PostgreSQL) are what the platform's flows
are compared with.

Database round trips and transactions per flow are counted by PostgreSQL itself: the benchmark's
server runs with pg_stat_statements, and each rate reports the statements every service sent
during it (BEGIN and COMMIT included, the background polls too) divided by its flows, with the most
frequent statements.

Each rate runs for `--duration` seconds; the ramp stops after the first rate that saturates (p99
over 1 s, a flow lost, or the sender unable to keep the schedule). Writes bench/results/end_to_end.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import harness
import httpx
import nats
import sampled
from harness import OFFER_COLUMNS, RESULTS, Platform, PlatformSettings, load_taxonomy
from nats.js.api import StreamConfig
from pydantic import SecretStr

SERVICES = ("members", "projects", "matching", "notifications")
NEEDS_PER_PROJECT = 5
TOP_K = 10  # matching's default: no need takes more flows than this
SATURATED_P99_MS = 1000.0
TARGETS = {
    "p99_ms_at_100": 50.0,
    "sustained_per_s": 200.0,
    "sustained_stretch_per_s": 300.0,
    "cpu_to_floor": 2.5,
    "round_trips_per_flow": 20.0,
}
DATABASES = [f"passerelle_{service}" for service in SERVICES]
FLOOR_DATABASE = "bench_floor"
LOAD_GENERATOR = "load generator (this process)"


async def open_loop(rate: float, duration: float, send: Callable[[int, float], Awaitable[None]]) -> float:
    """Start `send(n, scheduled)` at each scheduled time without waiting for earlier ones; returns how
    late the last one started (s): a sender that cannot keep up is itself saturated."""
    loop = asyncio.get_running_loop()
    count = max(1, round(rate * duration))
    start = loop.time() + 0.05
    tasks = []
    lag = 0.0
    for n in range(count):
        scheduled = start + n / rate
        if (delay := scheduled - loop.time()) > 0:
            await asyncio.sleep(delay)
        lag = loop.time() - scheduled
        tasks.append(asyncio.create_task(send(n, scheduled)))
    await asyncio.gather(*tasks)
    return lag


# The floor: three hops, one process and one statement each.


async def prepare_floor(postgres: Any) -> str:
    url = postgres.url().replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f"CREATE DATABASE {FLOOR_DATABASE}")
    finally:
        await connection.close()
    dsn = url.rsplit("/", 1)[0] + f"/{FLOOR_DATABASE}"
    connection = await asyncpg.connect(dsn)
    try:
        for hop in (1, 2, 3):
            await connection.execute(f"CREATE TABLE hop{hop} (id bigserial PRIMARY KEY, body bytea)")
    finally:
        await connection.close()
    return dsn


def _start_hops(nats_url: str, dsn: str, stream: str) -> dict[str, subprocess.Popen[str]]:
    script = str(Path(__file__).parent / "floor_hops.py")
    return {
        f"hop {n}": subprocess.Popen(
            [sys.executable, script, nats_url, dsn, stream, str(n), "3"], stdout=subprocess.PIPE, text=True
        )
        for n in (1, 2, 3)
    }


async def floor(platform: Platform, dsn: str, rate: float, duration: float) -> dict[str, Any]:
    connection = await nats.connect(platform.nats_url)
    js = connection.jetstream()
    name = f"BENCH_FLOOR_{round(rate)}"
    await js.add_stream(StreamConfig(name=name, subjects=[f"{name}.1", f"{name}.2", f"{name}.3"]))
    loop = asyncio.get_running_loop()
    recorded = harness.histogram()
    count = max(1, round(rate * duration))
    finished = asyncio.Event()

    async def arrived(message: Any) -> None:
        harness.record(recorded, loop.time() - float(message.data))
        if recorded.get_total_count() >= count:
            finished.set()

    await connection.subscribe(f"{name}.done", cb=arrived)
    hops = _start_hops(platform.nats_url, dsn, name)
    try:
        for process in hops.values():
            assert process.stdout is not None
            await asyncio.to_thread(process.stdout.readline)  # "ready": its consumer exists

        def cpu() -> dict[str, float]:
            used = {hop: harness.cpu_seconds(process.pid) for hop, process in hops.items()}
            return used | {
                server: harness.cpu_seconds(pid, with_children=True)
                for server, pid in platform.server_pids.items()
            }

        async def send(n: int, scheduled: float) -> None:
            await js.publish(f"{name}.1", repr(scheduled).encode(), stream=name)

        before = cpu()
        await open_loop(rate, duration, send)  # on the loop's clock: CLOCK_MONOTONIC, the hops' too
        await asyncio.wait_for(finished.wait(), timeout=120)
        after = cpu()
    finally:
        for process in hops.values():
            process.terminate()
        for process in hops.values():
            process.wait(timeout=30)
    await js.delete_stream(name)
    await connection.close()
    result: dict[str, Any] = harness.summary(recorded)
    result["cpu_ms_per_flow"] = {part: (after[part] - before[part]) * 1000 / count for part in after}
    result["cpu_ms_per_flow_total"] = sum(result["cpu_ms_per_flow"].values())
    return result


async def store_offers(database_url: str, count: int, seed: int = 5) -> None:
    """`count` remote offers of other members, long-tailed over the taxonomy, in matching's database."""
    rng = random.Random(seed)
    taxonomy = load_taxonomy()
    skills = [skill for skill in taxonomy if skill.broader]
    rng.shuffle(skills)
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(skills))]
    now = datetime.now(UTC)
    url = database_url.replace("postgresql+asyncpg", "postgresql")
    connection = await asyncpg.connect(url)
    try:
        for start in range(0, count, 100_000):
            drawn = rng.choices(skills, weights=weights, k=min(100_000, count - start))
            records = [
                (
                    f"stored-o{start + n}",
                    f"stored-m{(start + n) // 3}",
                    skill.code,
                    rng.randint(1, 5),
                    json.dumps(sorted(rng.sample(["remote", "mentoring"], k=rng.randint(1, 2)))),
                    json.dumps(sorted(rng.sample(["fr", "ar", "en", "wo"], k=rng.randint(1, 2)))),
                    "[]",
                    json.dumps([skill.sector]),
                    None,
                    None,
                    False,
                    now,
                )
                for n, skill in enumerate(drawn)
            ]
            await connection.copy_records_to_table(
                "offers",
                records=records,
                columns=OFFER_COLUMNS,
            )
        await connection.execute("VACUUM ANALYZE offers")
    finally:
        await connection.close()


def project_skills(rng: random.Random, count: int) -> list[list[str]]:
    """For each project, 5 skills of different sectors, so an offer answers one need only."""
    taxonomy = load_taxonomy()
    by_sector: dict[str, list[str]] = {}
    for skill in taxonomy:
        if skill.broader:
            by_sector.setdefault(skill.sector, []).append(skill.code)
    sectors = sorted(by_sector)
    return [
        [rng.choice(by_sector[sector]) for sector in rng.sample(sectors, k=NEEDS_PER_PROJECT)]
        for _ in range(count)
    ]


@dataclass
class Community:
    """What the setup made: for each commune its member, and the needs flows go to."""

    needs: list[tuple[str, str]] = field(default_factory=list)  # (member_id, skill)
    flows: int = 0  # flows sent so far: the next goes to needs[flows % len(needs)]

    def next_need(self) -> tuple[str, str]:
        need = self.needs[self.flows % len(self.needs)]
        self.flows += 1
        return need


async def set_up(platform: Platform, client: httpx.AsyncClient, territories: int, seed: int) -> Community:
    authenticator = platform.authenticator()

    async def call(method: str, path: str, sub: str, role: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {authenticator.issue(sub, [role])}"}
        response = await client.request(method, platform.url(path), headers=headers, json=body)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    skills = project_skills(random.Random(seed), territories)
    community = Community()

    async def commune(n: int) -> None:
        place = await call(
            "POST",
            "/territories",
            "operator",
            "operator",
            {"name": f"Commune {n}", "country": "MA", "level": "commune"},
        )
        territory_id, owner, member_id = place["territory_id"], f"manager-{n}", f"member-{n}"
        await call(
            "POST",
            f"/territories/{territory_id}/managers",
            "operator",
            "operator",
            {"sub": owner, "role": "territory_manager"},
        )
        project = await call(
            "POST",
            "/projects",
            owner,
            "member",
            {
                "territory_id": territory_id,
                "title": f"Health post of commune {n}",
                "summary": "Equip and staff the health post.",
                "sector": "health",
                "languages": ["fr"],
                "needs": [
                    {"skill": skill, "min_level": 3, "mode": "short_mission", "count": 1}
                    for skill in skills[n]
                ],
            },
        )
        await call("POST", f"/projects/{project['project_id']}/publish", owner, "member")
        await call(
            "POST",
            "/members",
            member_id,
            "member",
            {
                "kind": "person",
                "display_name": f"Member {n}",
                "email": f"member-{n}@example.org",
                "locale": "fr",
                "country_of_residence": "BE",
                "time_zone": "Europe/Brussels",
                "languages": ["fr"],
                "attachments": [{"territory_id": territory_id, "bond": "origin"}],
            },
        )
        community.needs += [(member_id, skill) for skill in skills[n]]

    for start in range(0, territories, 20):
        await asyncio.gather(*(commune(n) for n in range(start, min(territories, start + 20))))
    return community


class Flows:
    """Each flow's scheduled time, offer and the moment its proposal reached the member's inbox."""

    def __init__(self) -> None:
        self.scheduled: dict[str, float] = {}  # offer_id -> scheduled time
        self.proposal_of: dict[str, str] = {}  # MatchProposed event id -> offer_id
        self.in_inbox: dict[str, float] = {}  # offer_id -> first NotificationDelivered (inbox) seen
        self.early: dict[str, float] = {}  # cause event id -> time, when it came before its proposal
        self.failed_requests = 0
        self.arrived = asyncio.Event()

    def proposed(self, event: dict[str, Any]) -> None:
        self.proposal_of[event["id"]] = event["data"]["offer_id"]
        if (seen := self.early.pop(event["id"], None)) is not None:
            self._stored(event["data"]["offer_id"], seen)

    def delivered(self, event: dict[str, Any], at: float) -> None:
        data = event["data"]
        if data["channel"] != "inbox" or data["kind"] != "match_proposed":
            return
        offer_id = self.proposal_of.get(data["cause_event_id"])
        if offer_id is None:
            self.early[data["cause_event_id"]] = at
        else:
            self._stored(offer_id, at)

    def _stored(self, offer_id: str, at: float) -> None:
        if offer_id not in self.in_inbox or at < self.in_inbox[offer_id]:
            self.in_inbox[offer_id] = at
        self.arrived.set()


async def measure_rate(
    platform: Platform,
    client: httpx.AsyncClient,
    flows: Flows,
    community: Community,
    rate: float,
    duration: float,
    tokens: dict[str, str],
    postgres: Any,
    profile: Path | None = None,
) -> dict[str, Any]:
    offers: list[str] = []
    failed_before = flows.failed_requests

    async def send(n: int, scheduled: float) -> None:
        member_id, skill = community.next_need()
        try:
            response = await client.post(
                platform.url(f"/members/{member_id}/offers"),
                headers={"Authorization": f"Bearer {tokens[member_id]}"},
                json={"skill": skill, "level": 5, "modes": ["short_mission"], "languages": ["fr"]},
            )
        except httpx.TransportError:  # e.g. a kept-alive connection the server closed meanwhile
            flows.failed_requests += 1
            return
        if response.status_code != 201:
            flows.failed_requests += 1
            return
        offer_id = response.json()["offer_id"]
        flows.scheduled[offer_id] = scheduled
        offers.append(offer_id)

    before, statements_before = platform.cpu(), await harness.statement_counts(postgres, DATABASES)
    samplers = (
        sampled.start({name: process.pid for name, process in platform.processes.items()}, duration, profile)
        if profile
        else []
    )
    lag = await open_loop(rate, duration, send)
    loop = asyncio.get_running_loop()
    drain_until = loop.time() + 60
    while any(offer_id not in flows.in_inbox for offer_id in offers) and loop.time() < drain_until:
        flows.arrived.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(flows.arrived.wait(), timeout=1)
    after, statements = (
        platform.cpu(),
        await harness.statement_counts(postgres, DATABASES) - statements_before,
    )
    recorded = harness.histogram()
    for offer_id in offers:
        if offer_id in flows.in_inbox:
            harness.record(recorded, flows.in_inbox[offer_id] - flows.scheduled[offer_id])
    result = harness.summary(recorded)
    result |= {
        "rate": rate,
        "sent": round(rate * duration),
        "lost": len(offers) - int(result["count"]),
        "failed_requests": flows.failed_requests - failed_before,
        "sender_lag_ms": lag * 1000,
        "cpu_ms_per_flow": {
            name: (after[name] - before[name]) * 1000 / max(1, len(offers)) for name in after
        },
    }
    flows_sent = max(1, len(offers))
    result["cpu_ms_per_flow_total"] = sum(
        ms for name, ms in result["cpu_ms_per_flow"].items() if name != LOAD_GENERATOR
    )
    result["round_trips_per_flow"] = {
        database.removeprefix("passerelle_"): calls / flows_sent
        for database, calls in statements.by_database().items()
    }
    result["transactions_per_flow"] = {
        database.removeprefix("passerelle_"): calls / flows_sent
        for database, calls in statements.transactions().items()
    }
    result["top_statements_per_flow"] = [
        [database.removeprefix("passerelle_"), query[:120], calls / flows_sent]
        for database, query, calls in statements.top(15)
    ]
    result["saturated"] = bool(
        result["p99_ms"] > SATURATED_P99_MS or result["lost"] or result["failed_requests"] or lag > 1.0
    )
    for sampler in samplers:
        sampler.wait()
    if profile:
        result["profile"] = {
            name: sampled.summary(profile / f"{name}.txt")
            for name in platform.processes
            if (profile / f"{name}.txt").exists()
        }
    return result


async def run_platform(args: argparse.Namespace, stored: int, rates: list[float]) -> dict[str, Any]:
    with harness.scratch("passerelle-bench-e2e-") as scratch:
        async with harness.nats_server(scratch) as server, harness.postgres_server(scratch) as postgres:
            settings = PlatformSettings(nats_url=server.url, jwt_secret=SecretStr("bench-" + "x" * 40))
            await harness.count_statements(postgres)
            platform = Platform.on(scratch, server, postgres, settings)
            connection = await nats.connect(server.url)
            client = httpx.AsyncClient(
                timeout=120, limits=httpx.Limits(max_connections=400, max_keepalive_connections=400)
            )
            try:
                await harness.provision_streams(settings)
                await harness.prepare_databases(postgres.url(), SERVICES)
                floor_dsn = await prepare_floor(postgres)
                started = time.perf_counter()
                await store_offers(harness.service_database_url(postgres.url(), "matching"), stored)
                print(
                    f"  {stored:,} stored offers written in {time.perf_counter() - started:.0f} s", flush=True
                )
                for service in SERVICES:
                    platform.start(service)
                started = time.perf_counter()
                await platform.ready(client)
                print(f"  four services ready in {time.perf_counter() - started:.0f} s", flush=True)
                community = await set_up(platform, client, args.territories, args.seed)
                await harness.idle(connection.jetstream(), SERVICES)
                print(f"  {args.territories} communes, projects and members set up", flush=True)

                flows = Flows()
                loop = asyncio.get_running_loop()

                async def on_proposed(message: Any) -> None:
                    flows.proposed(json.loads(message.data))

                async def on_delivered(message: Any) -> None:
                    flows.delivered(json.loads(message.data), loop.time())

                await connection.subscribe("matching.match_proposed.v1", cb=on_proposed)
                await connection.subscribe("notifications.notification_delivered.v1", cb=on_delivered)
                authenticator = platform.authenticator()
                tokens = {
                    member_id: authenticator.issue(member_id, ["member"]) for member_id, _ in community.needs
                }
                capacity = len(community.needs) * TOP_K
                steps = []
                for rate in rates:
                    if community.flows + rate * args.duration > capacity:
                        print(
                            f"  stopping before {rate:g}/s: more flows than the needs' tops can take",
                            flush=True,
                        )
                        break
                    step = await measure_rate(
                        platform,
                        client,
                        flows,
                        community,
                        rate,
                        args.duration,
                        tokens,
                        postgres,
                        args.profile / f"{stored}-{rate:g}" if args.profile else None,
                    )
                    step["baseline"] = await floor(platform, floor_dsn, rate, args.duration)
                    step["cpu_to_floor"] = _ratio(
                        step["cpu_ms_per_flow_total"], step["baseline"]["cpu_ms_per_flow_total"]
                    )
                    steps.append(step)
                    print(_line(step), flush=True)
                    await harness.idle(connection.jetstream(), SERVICES)
                    if step["saturated"]:
                        break
                return {"stored_offers": stored, "steps": steps}
            finally:
                await client.aclose()
                await connection.close()
                platform.stop()


def _ratio(cpu: float, floor_cpu: float) -> float | None:
    """None when the floor's CPU was below what /proc can tell (a tick, 10 ms, over a tiny run)."""
    return cpu / floor_cpu if floor_cpu > 0 else None


def _times(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.1f}x"


def _line(step: dict[str, Any]) -> str:
    base = step["baseline"]
    return (
        f"  {step['rate']:>5g}/s  p50 {step['p50_ms']:7.1f}  p95 {step['p95_ms']:7.1f}  "
        f"p99 {step['p99_ms']:7.1f}  max {step['max_ms']:7.1f} ms  lost {step['lost']}"
        f"  | 3 hops p50 {base['p50_ms']:.1f} p99 {base['p99_ms']:.1f} ms"
        f"  | p99 ratio {step['p99_ms'] / base['p99_ms']:,.0f}x"
        + ("  SATURATED" if step["saturated"] else "")
        + f"\n          CPU ms per flow: {step['cpu_ms_per_flow_total']:.1f} in all"
        f" (floor {base['cpu_ms_per_flow_total']:.2f}, {_times(step['cpu_to_floor'])}): "
        + ", ".join(f"{name} {ms:.1f}" for name, ms in step["cpu_ms_per_flow"].items())
        + "\n          floor CPU ms per flow: "
        + ", ".join(f"{name} {ms:.2f}" for name, ms in base["cpu_ms_per_flow"].items())
        + f"\n          database round trips per flow: {sum(step['round_trips_per_flow'].values()):.1f} ("
        + ", ".join(f"{name} {n:.1f}" for name, n in step["round_trips_per_flow"].items())
        + f"), transactions {sum(step['transactions_per_flow'].values()):.1f} ("
        + ", ".join(f"{name} {n:.1f}" for name, n in step["transactions_per_flow"].items())
        + ")\n          most frequent statements per flow: "
        + "".join(
            f"\n            {n:5.2f}  {name:<13} {query[:90]}"
            for name, query, n in step["top_statements_per_flow"]
        )
        + "".join(
            f"\n          {service}, share of its samples {kind}: "
            + ", ".join(f"{function} {share:.0%}" for function, share in functions)
            for service, top in step.get("profile", {}).items()
            for kind, functions in top.items()
        )
    )


def sustained(steps: list[dict[str, Any]]) -> float:
    kept = [step["rate"] for step in steps if not step["saturated"]]
    return max(kept, default=0.0)


def report(runs: list[dict[str, Any]]) -> dict[str, Any]:
    print("\nEnd to end: SkillOffered over HTTP -> proposal in the member's inbox (open loop, ms)")
    header = f"{'stored offers':>13} {'rate/s':>7} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} {'lost':>5}"
    header += f" {'3 hops p99':>11} {'p99 ratio':>10} {'CPU ms':>7} {'floor':>6} {'ratio':>6}"
    print(header + f" {'trips':>6} {'xacts':>6}")
    for run in runs:
        for step in run["steps"]:
            base = step["baseline"]["p99_ms"]
            print(
                f"{run['stored_offers']:>13,} {step['rate']:>7g} {step['p50_ms']:>8.1f} "
                f"{step['p95_ms']:>8.1f} {step['p99_ms']:>8.1f} {step['max_ms']:>8.1f} {step['lost']:>5} "
                f"{base:>11.1f} "
                f"{step['p99_ms'] / base:>9,.0f}x {step['cpu_ms_per_flow_total']:>7.1f} "
                f"{step['baseline']['cpu_ms_per_flow_total']:>6.2f} {_times(step['cpu_to_floor']):>6} "
                f"{sum(step['round_trips_per_flow'].values()):>6.1f} "
                f"{sum(step['transactions_per_flow'].values()):>6.1f}"
                + ("  saturated" if step["saturated"] else "")
            )
    first = runs[0]["steps"]
    at_100 = next((step for step in first if step["rate"] == 100), None)
    rate = sustained(first)
    # CPU and round trips per flow count at every rate the platform sustains: a saturated one
    # batches more and looks cheaper per flow.
    sustained_steps = [step for step in first if not step["saturated"]]
    met = {
        "p99_at_100_per_s": bool(
            at_100 and not at_100["saturated"] and at_100["p99_ms"] <= TARGETS["p99_ms_at_100"]
        ),
        "sustained_200_per_s": rate >= TARGETS["sustained_per_s"],
        "sustained_300_per_s (stretch)": rate >= TARGETS["sustained_stretch_per_s"],
        "no_loss": all(step["lost"] == 0 for run in runs for step in run["steps"]),
        "cpu_within_2_5x_floor": bool(sustained_steps)
        and all(
            step["cpu_to_floor"] is not None and step["cpu_to_floor"] <= TARGETS["cpu_to_floor"]
            for step in sustained_steps
        ),
        "round_trips_within_20": bool(sustained_steps)
        and all(
            sum(step["round_trips_per_flow"].values()) <= TARGETS["round_trips_per_flow"]
            for step in sustained_steps
        ),
    }
    print(
        f"sustained without saturating: {rate:g} flows/s (target >= {TARGETS['sustained_per_s']:g},"
        f" stretch {TARGETS['sustained_stretch_per_s']:g})"
    )
    print("targets met: " + ", ".join(f"{name} {'yes' if ok else 'NO'}" for name, ok in met.items()))
    return {
        "runs": runs,
        "sustained_per_s": rate,
        "targets": TARGETS,
        "targets_met": met,
        "measured_at": datetime.now(UTC).isoformat(),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    runs = []
    for n, stored in enumerate(args.stored):
        rates = args.rates if n == 0 else args.growth_rates
        print(
            f"Platform with {stored:,} stored offers, rates {', '.join(f'{r:g}' for r in rates)}/s ...",
            flush=True,
        )
        runs.append(await run_platform(args, stored, rates))
    return report(runs)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--stored", type=int, nargs="+", default=[10_000, 1_000_000], help="stored offers, one platform each"
    )
    parser.add_argument(
        "--rates", type=float, nargs="+", default=[10, 20, 30, 40, 50, 100, 200, 300, 400, 600, 800]
    )
    parser.add_argument(
        "--growth-rates",
        type=float,
        nargs="+",
        default=[10, 20, 30, 40],
        help="rates for the larger platforms",
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds at each rate")
    parser.add_argument("--territories", type=int, default=400)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "end_to_end.json")
    parser.add_argument(
        "--profile",
        type=Path,
        help="sample every service with py-spy at each rate into this folder and print where the CPU goes",
    )
    args = parser.parse_args()
    result = asyncio.run(run(args))
    harness.write_result(args.out, result)


if __name__ == "__main__":
    main()
