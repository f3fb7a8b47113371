"""Matching at the scale of a large diaspora: the in-memory index against a naive full scan.

    make bench                                  # 1,000,000 offers, 100,000 open needs (a few minutes)
    uv run python bench/matching_at_scale.py --offers 100000 --needs 10000   # smaller, quicker

Generates realistic data (a taxonomy of a few thousand skills, hundreds of territories, members
with bonds and languages, offers whose skills follow a long-tailed popularity), then measures in
one run:
- the time to match a new project of 5 needs (index) against scanning every offer (naive);
- the time to match a new offer against the open needs (index) against scanning every need;
- the time to build the index from PostgreSQL, and the resident memory of the process that holds it
  (a separate process that does nothing else, on an embedded PostgreSQL filled with the same data).
Prints a table with the targets and writes bench/results/matching.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import harness
from harness import OFFER_COLUMNS, RESULTS, Database, Skill, Taxonomy, percentiles, timed

# The engine under measurement.
from matching.config import MatchingSettings
from matching.domain import MemberFacts, OfferFacts, score
from matching.handlers import MatchingHandlers
from matching.index import MatchIndex, NeedSpec, ProjectFacts
from matching.repository import frozen

MODES = ("remote", "short_mission", "long_mission", "mentoring")
COUNTRIES = {
    "MA": ["ar", "fr"],
    "SN": ["fr", "wo"],
    "ML": ["fr", "bm"],
    "CD": ["fr", "ln"],
    "DZ": ["ar", "fr"],
    "TN": ["ar", "fr"],
    "CM": ["fr", "en"],
    "HT": ["fr", "ht"],
}
ZONES = {
    "Europe/Paris": 1.0,
    "Europe/Brussels": 1.0,
    "America/Montreal": -5.0,
    "Africa/Casablanca": 1.0,
    "Europe/London": 0.0,
}
TARGETS = {
    "project_p99_ms": 20.0,
    "project_speedup": 100.0,
    "offer_p99_ms": 10.0,
    "build_s": 60.0,
    "rss_mb": 1536.0,
}


def synthetic_taxonomy(rng: random.Random, sectors: int = 16, groups: int = 12, leaves: int = 24) -> Taxonomy:
    """sectors x groups x leaves skills in three levels, each leaf related to another of its sector."""
    skills: list[Skill] = []
    for s in range(sectors):
        sector = f"s{s}"
        skills.append(Skill(sector, sector, {"en": f"sector {s}"}))
        for g in range(groups):
            group = f"{sector}.g{g}"
            skills.append(Skill(group, sector, {"en": f"group {s}.{g}"}, broader=(sector,)))
            for leaf in range(leaves):
                code = f"{group}.k{leaf}"
                other = f"{sector}.g{rng.randrange(groups)}.k{rng.randrange(leaves)}"
                related = (other,) if other != code else ()
                skills.append(
                    Skill(code, sector, {"en": f"skill {s}.{g}.{leaf}"}, broader=(group,), related=related)
                )
    return Taxonomy(skills)


def territories() -> list[tuple[str, str | None, str]]:
    """8 countries > 5 regions > 4 provinces > 3 communes: 688 territories."""
    found: list[tuple[str, str | None, str]] = []
    for country in COUNTRIES:
        found.append((country, None, country))
        for r in range(5):
            region = f"{country}-r{r}"
            found.append((region, country, country))
            for p in range(4):
                province = f"{region}-p{p}"
                found.append((province, region, country))
                found += [(f"{province}-c{c}", province, country) for c in range(3)]
    return found


@dataclass
class Dataset:
    taxonomy: Taxonomy
    territories: list[tuple[str, str | None, str]]
    members: list[MemberFacts]
    offers: list[OfferFacts]
    projects: list[ProjectFacts]
    leaves: list[str]
    popularity: list[float]
    communes: list[str] = field(default_factory=list)


def generate(offers: int, needs: int, seed: int = 7) -> Dataset:
    rng = random.Random(seed)
    taxonomy = synthetic_taxonomy(rng)
    places = territories()
    communes = [t for t, _, _ in places if "-c" in t]
    regions = [t for t, parent, _ in places if parent and "-p" not in t and "-c" not in t]
    leaves = sorted(skill.code for skill in taxonomy if skill.code.count(".") == 2)
    rng.shuffle(leaves)
    popularity = [1 / (rank + 1) ** 0.8 for rank in range(len(leaves))]  # a long tail of rarer skills
    members = []
    for n in range(offers // 3):
        home = rng.choice(communes)
        country = home[:2]
        attachments = [(home, rng.choice(("origin", "origin", "family", "heart")))]
        if rng.random() < 0.3:
            attachments.append((rng.choice(regions), "heart"))
        zone = rng.choice(list(ZONES))
        languages = set(rng.sample(COUNTRIES[country], k=rng.randint(1, 2))) | (
            {"en"} if rng.random() < 0.4 else set()
        )
        members.append(
            MemberFacts(
                member_id=f"m{n}",
                languages=frozen(languages),
                attachments=tuple(attachments),
                sectors=frozen({f"s{rng.randrange(16)}"}),
                utc_offset=ZONES[zone],
            )
        )
    skills_drawn = rng.choices(leaves, weights=popularity, k=offers)
    made = []
    start = date(2027, 1, 1)
    for n, skill in enumerate(skills_drawn):
        member = members[n % len(members)]
        dated = rng.random() < 0.3
        made.append(
            OfferFacts(
                offer_id=f"o{n}",
                member_id=member.member_id,
                skill=skill,
                level=rng.randint(1, 5),
                modes=frozen(rng.sample(MODES, k=rng.randint(1, 3))),
                languages=member.languages,
                sectors=frozen({skill.split(".")[0]}),
                available_from=start + timedelta(days=rng.randrange(120)) if dated else None,
                available_until=start + timedelta(days=120 + rng.randrange(240)) if dated else None,
            )
        )
    projects = [_project(rng, n, leaves, popularity, communes) for n in range(needs // 5)]
    return Dataset(taxonomy, places, members, made, projects, leaves, popularity, communes)


def _project(
    rng: random.Random, n: int, leaves: list[str], popularity: list[float], communes: list[str]
) -> ProjectFacts:
    commune = rng.choice(communes)
    languages = frozen(rng.sample(COUNTRIES[commune[:2]], k=1))
    specs = []
    for k, skill in enumerate(rng.choices(leaves, weights=popularity, k=5)):
        starts = date(2027, 1, 1) + timedelta(days=rng.randrange(200)) if rng.random() < 0.5 else None
        specs.append(
            NeedSpec(
                f"p{n}-n{k}",
                skill,
                rng.randint(1, 4),
                rng.choice(MODES),
                rng.randint(1, 3),
                starts,
                starts and starts + timedelta(days=21),
            )
        )
    return ProjectFacts(f"p{n}", commune, f"owner{n}", skill.split(".")[0], languages, tuple(specs))


def new_offer(rng: random.Random, data: Dataset, n: int) -> OfferFacts:
    member = rng.choice(data.members)
    skill = rng.choices(data.leaves, weights=data.popularity, k=1)[0]
    return OfferFacts(
        f"new-o{n}",
        member.member_id,
        skill,
        rng.randint(1, 5),
        frozen(rng.sample(MODES, k=2)),
        member.languages,
    )


def load_index(data: Dataset, top_k: int) -> MatchIndex:
    index = MatchIndex(data.taxonomy, top_k=top_k, min_score=0.3)
    for territory_id, parent, country in data.territories:
        index.territories[territory_id] = (parent, country)
    index.members.update((member.member_id, member) for member in data.members)
    for offer in data.offers:
        index.index_offer(offer, in_order=False)
    index.order_buckets()
    for project in data.projects:
        index.load_project(project)
    return index


def naive_project(index: MatchIndex, project: ProjectFacts) -> list[list[tuple[float, str]]]:
    """The baseline: every need checked against every offer, no index."""
    tops = []
    for need in index._needs_of(project):
        found = []
        answers = index.relations[need.skill]
        for offer in index.offers.values():
            relation = answers.get(offer.skill)
            if relation is None:
                continue
            value = score(need, offer, index.members.get(offer.member_id), relation)
            if value is not None and value >= index.min_score:
                found.append((-value, offer.offer_id))
        tops.append(sorted(found)[: index.top_k])
    return tops


def naive_offer(index: MatchIndex, offer: OfferFacts) -> int:
    """The baseline: the offer checked against every open need, then against the need's top k."""
    entered = 0
    member = index.members.get(offer.member_id)
    for need in index.needs.values():
        relation = index.relations[need.skill].get(offer.skill)
        if relation is None:
            continue
        value = score(need, offer, member, relation)
        top = index.top.get(need.need_id, [])
        if (
            value is not None
            and value >= index.min_score
            and (len(top) < index.top_k or (-value, offer.offer_id) < top[-1].key)
        ):
            entered += 1
    return entered


def ranked_index(data: Dataset, top_k: int) -> MatchIndex:
    started = time.perf_counter()
    index = load_index(data, top_k)
    took = time.perf_counter() - started
    print(
        f"  loaded {len(index.offers):,} offers and {len(index.needs):,} open needs in {took:.1f}s",
        flush=True,
    )
    started = time.perf_counter()
    index.rank_everything()
    print(f"  ranked every need's top {top_k} in {time.perf_counter() - started:.1f}s", flush=True)
    gc.collect()
    gc.freeze()  # as the service does once its index is built
    return index


def measure_in_memory(data: Dataset, index: MatchIndex, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(11)
    new_projects = [
        _project(rng, 10_000_000 + n, data.leaves, data.popularity, data.communes)
        for n in range(args.samples)
    ]
    project_ms = [timed(lambda p=p: index.project_upserted(p)) for p in new_projects]
    naive_project_ms = [
        timed(lambda p=p: naive_project(index, p)) for p in new_projects[: args.naive_samples]
    ]

    offers = [new_offer(rng, data, n) for n in range(args.samples * 5)]
    offer_ms = [timed(lambda o=o: index.offer_upserted(o)) for o in offers]
    naive_offer_ms = [timed(lambda o=o: naive_offer(index, o)) for o in offers[: args.naive_samples * 4]]
    return {
        "project": percentiles(project_ms),
        "naive_project": percentiles(naive_project_ms),
        "offer": percentiles(offer_ms),
        "naive_offer": percentiles(naive_offer_ms),
    }


async def fill_database(data: Dataset, index: MatchIndex, url: str) -> None:
    """The matching database as the service would have it: read models and each need's top k."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    now = datetime.now(UTC)
    try:
        await connection.copy_records_to_table(
            "territories", records=data.territories, columns=["territory_id", "parent_id", "country"]
        )
        await connection.copy_records_to_table(
            "members",
            records=[
                (
                    m.member_id,
                    json.dumps(sorted(m.languages)),
                    json.dumps([{"territory_id": t, "bond": b} for t, b in m.attachments]),
                    json.dumps(sorted(m.sectors)),
                    "Europe/Paris",
                    "[]",
                    False,
                    now,
                )
                for m in data.members
            ],
            columns=[
                "member_id",
                "languages",
                "attachments",
                "sectors",
                "time_zone",
                "managers",
                "erased",
                "as_of",
            ],
        )
        await connection.copy_records_to_table(
            "offers",
            records=[
                (
                    o.offer_id,
                    o.member_id,
                    o.skill,
                    o.level,
                    json.dumps(sorted(o.modes)),
                    json.dumps(sorted(o.languages)),
                    "[]",
                    json.dumps(sorted(o.sectors)),
                    o.available_from,
                    o.available_until,
                    False,
                    now,
                )
                for o in data.offers
            ],
            columns=OFFER_COLUMNS,
        )
        await connection.copy_records_to_table(
            "projects",
            records=[
                (
                    p.project_id,
                    p.territory_id,
                    p.owner_member_id,
                    p.project_id,
                    p.sector,
                    json.dumps(sorted(p.languages)),
                    json.dumps(
                        [
                            {
                                "need_id": s.need_id,
                                "skill": s.skill,
                                "min_level": s.min_level,
                                "mode": s.mode,
                                "count": s.count,
                                "starts_on": s.starts_on and s.starts_on.isoformat(),
                                "ends_on": s.ends_on and s.ends_on.isoformat(),
                            }
                            for s in p.needs
                        ]
                    ),
                    False,
                    now,
                )
                for p in data.projects
            ],
            columns=[
                "project_id",
                "territory_id",
                "owner_member_id",
                "title",
                "sector",
                "languages",
                "needs",
                "closed",
                "as_of",
            ],
        )
        await connection.copy_records_to_table(
            "matches",
            records=[
                (
                    str(uuid.uuid4()),
                    index.needs[need_id].project_id,
                    need_id,
                    ranked.offer_id,
                    index.offers[ranked.offer_id].member_id,
                    ranked.fit.score,
                    json.dumps(list(ranked.fit.reasons)),
                    "proposed",
                    True,
                    now,
                    now,
                )
                for need_id, top in index.top.items()
                if need_id in index.needs
                for ranked in top
            ],
            columns=[
                "match_id",
                "project_id",
                "need_id",
                "offer_id",
                "member_id",
                "score",
                "reasons",
                "status",
                "in_top",
                "created_at",
                "updated_at",
            ],
        )
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def build_only(url: str, seed: int) -> None:
    """In a process of its own: build the index from the database and report time and memory."""
    from passerelle.messaging.unit_of_work import no_repository, units

    database = Database(url)
    taxonomy = synthetic_taxonomy(random.Random(seed))
    handlers = MatchingHandlers(units(database, no_repository), MatchingSettings(), taxonomy)
    started = time.perf_counter()
    await handlers.warm_up()  # what the service does before it takes its first event
    seconds = time.perf_counter() - started
    index = handlers.index
    assert index is not None
    await database.dispose()
    rss = harness.resident_kb()
    print(
        json.dumps(
            {"build_s": seconds, "rss_mb": rss / 1024, "offers": len(index.offers), "needs": len(index.needs)}
        )
    )


async def measure_build(data: Dataset, index: MatchIndex, seed: int) -> dict[str, Any]:
    with harness.scratch("passerelle-bench-") as scratch:
        async with harness.postgres_server(scratch, durable=False) as postgres:
            url = harness.service_database_url(postgres.url(), "matching")
            started = time.perf_counter()
            await harness.prepare_databases(postgres.url(), ["matching"])
            await fill_database(data, index, url)
            print(f"  filled PostgreSQL in {time.perf_counter() - started:.1f}s", flush=True)
            output = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, __file__, "--build-only", url, "--seed", str(seed)],
                capture_output=True,
                text=True,
                check=True,
            )
            return dict(json.loads(output.stdout.strip().splitlines()[-1]))


def report(args: argparse.Namespace, memory: dict[str, Any], build: dict[str, Any]) -> dict[str, Any]:
    (p50, p99), (np50, np99) = memory["project"], memory["naive_project"]
    (o50, o99), (no50, no99) = memory["offer"], memory["naive_offer"]
    rows = [
        (
            "match a new project (5 needs), p50",
            f"{p50:.2f} ms",
            f"naive {np50:.0f} ms",
            f"{np50 / p50:,.0f}x",
            f">= {TARGETS['project_speedup']:.0f}x",
        ),
        (
            "match a new project (5 needs), p99",
            f"{p99:.2f} ms",
            f"naive {np99:.0f} ms",
            f"{np99 / p99:,.0f}x",
            f"<= {TARGETS['project_p99_ms']:.0f} ms and >= {TARGETS['project_speedup']:.0f}x",
        ),
        (
            f"match a new offer ({args.needs:,} needs), p50",
            f"{o50:.2f} ms",
            f"naive {no50:.0f} ms",
            f"{no50 / o50:,.0f}x",
            "",
        ),
        (
            f"match a new offer ({args.needs:,} needs), p99",
            f"{o99:.2f} ms",
            f"naive {no99:.0f} ms",
            f"{no99 / o99:,.0f}x",
            f"<= {TARGETS['offer_p99_ms']:.0f} ms",
        ),
        (
            "build the index from PostgreSQL",
            f"{build['build_s']:.1f} s",
            "",
            "",
            f"<= {TARGETS['build_s']:.0f} s",
        ),
        (
            "resident memory of that process",
            f"{build['rss_mb']:,.0f} MB",
            "",
            "",
            f"<= {TARGETS['rss_mb']:,.0f} MB",
        ),
    ]
    print(f"\nMatching with {args.offers:,} offers, {args.needs:,} open needs, top {args.top_k}")
    print(f"{'':44} {'index':>12} {'baseline':>16} {'ratio':>8}   target")
    for name, value, baseline, ratio, target in rows:
        print(f"{name:44} {value:>12} {baseline:>16} {ratio:>8}   {target}")
    met = {
        "project_p99": p99 <= TARGETS["project_p99_ms"],
        "project_speedup_p50": np50 / p50 >= TARGETS["project_speedup"],
        "project_speedup_p99": np99 / p99 >= TARGETS["project_speedup"],
        "offer_p99": o99 <= TARGETS["offer_p99_ms"],
        "build": build["build_s"] <= TARGETS["build_s"],
        "memory": build["rss_mb"] <= TARGETS["rss_mb"],
    }
    print("targets met: " + ", ".join(f"{name} {'yes' if ok else 'NO'}" for name, ok in met.items()))
    return {
        "offers": args.offers,
        "open_needs": args.needs,
        "top_k": args.top_k,
        "project_match_ms": {
            "p50": p50,
            "p99": p99,
            "naive_p50": np50,
            "naive_p99": np99,
            "speedup_p99": np99 / p99,
        },
        "offer_match_ms": {
            "p50": o50,
            "p99": o99,
            "naive_p50": no50,
            "naive_p99": no99,
            "speedup_p99": no99 / o99,
        },
        "index_build_s": build["build_s"],
        "resident_memory_mb": build["rss_mb"],
        "targets": TARGETS,
        "targets_met": met,
        "measured_at": datetime.now(UTC).isoformat(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--offers", type=int, default=1_000_000)
    parser.add_argument("--needs", type=int, default=100_000)
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument(
        "--samples", type=int, default=1000, help="new projects timed (and 5x as many offers)"
    )
    parser.add_argument("--naive-samples", type=int, default=20, help="projects timed with the naive scan")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--build-only", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS / "matching.json")
    args = parser.parse_args()
    if args.build_only:
        asyncio.run(build_only(args.build_only, args.seed))
        return
    print(f"Generating {args.offers:,} offers and {args.needs:,} needs ...", flush=True)
    data = generate(args.offers, args.needs, args.seed)
    index = ranked_index(data, args.top_k)
    build = asyncio.run(measure_build(data, index, args.seed))
    memory = measure_in_memory(data, index, args)
    result = report(args, memory, build)
    harness.write_result(args.out, result)


if __name__ == "__main__":
    main()
