"""The incremental index proposes exactly what ranking everything from scratch would, whatever the
order the events arrive in, duplicates included."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching.domain import evaluate
from matching.facts import MemberFacts, NeedSpec, OfferFacts, ProjectFacts
from matching.index import Journal, MatchIndex
from passerelle.taxonomy import load_taxonomy

TAXONOMY = load_taxonomy()
SKILLS = [
    "energy.solar",
    "energy.solar_pv_install",
    "energy.solar_pv_design",
    "water.solar_pumping",
    "health.nursing",
]
TERRITORIES = [
    ("country", None, "MA"),
    ("region", "country", "MA"),
    ("commune", "region", "MA"),
    ("kayes", None, "ML"),
]
MEMBERS = ["m1", "m2", "m3", "m4"]
LANGUAGES = ["fr", "ar", "en"]
MODES = ["remote", "short_mission", "mentoring"]

Event = tuple[str, float, Any]  # kind, time, payload


def offers() -> st.SearchStrategy[Event]:
    return st.builds(
        lambda oid, skill, level, modes, langs, places, sectors, t: (
            "offer",
            t,
            OfferFacts(
                offer_id=f"o{oid}",
                member_id=MEMBERS[oid % len(MEMBERS)],  # an offer is always its member's
                skill=skill,
                level=level,
                modes=frozenset(modes),
                languages=frozenset(langs),
                territory_ids=frozenset(places),
                sectors=frozenset(sectors),
                available_from=date(2027, 1, 1) if level % 2 else None,
                available_until=date(2027, 6, 30) if level == 5 else None,
                as_of=t,
            ),
        ),
        st.integers(0, 7),
        st.sampled_from(SKILLS),
        st.integers(2, 5),
        st.sets(st.sampled_from(MODES), min_size=1).map(lambda modes: modes | {"remote"}),
        st.one_of(  # mostly speaking French; sometimes naming no language (the member's then count)
            st.just(set()), *[st.sets(st.sampled_from(LANGUAGES)).map(lambda langs: langs | {"fr"})] * 3
        ),
        st.sampled_from([set(), set(), {"commune"}, {"region"}, {"kayes"}]),
        st.sets(st.sampled_from(["energy", "health"])),
        st.floats(1, 100),
    )


def members() -> st.SearchStrategy[Event]:
    return st.builds(
        lambda member, langs, bonds, zone, sectors, t: (
            "member",
            t,
            MemberFacts(
                member_id=member,
                languages=frozenset(langs),
                attachments=tuple(bonds),
                sectors=frozenset(sectors),
                utc_offset=zone,
                as_of=t,
            ),
        ),
        st.sampled_from(MEMBERS),
        st.sets(st.sampled_from(LANGUAGES)),
        st.lists(
            st.tuples(
                st.sampled_from(["commune", "region", "kayes"]),
                st.sampled_from(["origin", "family", "heart"]),
            ),
            max_size=2,
            unique_by=lambda pair: pair[0],
        ),
        st.sampled_from([None, 1.0, -5.0]),
        st.sets(st.sampled_from(["energy", "health"])),
        st.floats(1, 100),
    )


def _project(pid: int, place: str, langs: set[str], needs: list[NeedSpec], sector: str, t: float) -> Event:
    distinct = {spec.need_id: spec for spec in needs}.values()
    specs = tuple(
        NeedSpec(f"p{pid}-{s.need_id}", s.skill, s.min_level, s.mode, s.count, s.starts_on) for s in distinct
    )
    facts = ProjectFacts(f"p{pid}", place, "owner", sector, frozenset(langs), specs, as_of=t)
    return ("project", t, facts)


def projects() -> st.SearchStrategy[Event]:
    need = st.builds(
        lambda n, skill, level, mode, count: NeedSpec(f"n{n}", skill, level, mode, count, date(2027, 2, 1)),
        st.integers(0, 2),
        st.sampled_from(SKILLS),
        st.integers(1, 4),
        st.sampled_from(["remote", "remote", "short_mission", "mentoring"]),
        st.integers(1, 2),
    )
    return st.builds(
        _project,
        st.integers(0, 2),
        st.sampled_from(["commune", "region", "kayes"]),
        st.sampled_from([set(), {"fr"}, {"ar"}, {"fr", "ar"}]),
        st.lists(need, min_size=1, max_size=3),
        st.sampled_from(["energy", "health"]),
        st.floats(1, 100),
    )


def _other(kind: str, a: int, b: int, t: float) -> Event:
    payload: Any = {
        "withdraw": f"o{a}",
        "erase": MEMBERS[a % len(MEMBERS)],
        "close": f"p{b}",
        "territory": TERRITORIES[a % len(TERRITORIES)],
        "decline": (f"p{b}-n{a % 3}", f"o{a}"),
    }[kind]
    return (kind, t, payload)


def others() -> st.SearchStrategy[Event]:
    """Withdrawals, erasures, closures, territories and declines: one kind of event among the others."""
    kinds = st.sampled_from(["withdraw", "erase", "close", "territory", "territory", "decline"])
    return st.builds(_other, kinds, st.integers(0, 7), st.integers(0, 2), st.floats(1, 100))


def at(event: Event, moment: float) -> Event:
    """The event as it happened at `moment`: facts carry the time of the event that stated them."""
    kind, _, payload = event
    if kind in ("offer", "member", "project"):
        payload = replace(payload, as_of=moment)
    return (kind, moment, payload)


def apply(index: MatchIndex, event: Event) -> None:
    kind, _, payload = event
    match kind:
        case "offer":
            index.offer_upserted(payload)
        case "member":
            index.member_upserted(payload)
        case "project":
            index.project_upserted(payload)
        case "withdraw":
            index.offer_withdrawn(payload)
        case "erase":
            index.member_erased(payload)
        case "close":
            index.project_closed(payload)
        case "territory":
            index.territory_registered(*payload)
        case "decline":
            index.declined_by_member(*payload)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=st.lists(
        st.one_of(offers(), offers(), offers(), members(), projects(), projects(), others()),
        min_size=15,
        max_size=50,
    ),
    data=st.data(),
)
def test_incremental_matching_equals_a_recomputation_from_scratch_whatever_the_arrival_order(
    events: list[Event], data: st.DataObject
) -> None:
    events = [at(event, float(moment)) for moment, event in enumerate(events, start=1)]  # as they happened
    arrivals = data.draw(st.permutations(events + data.draw(st.lists(st.sampled_from(events), max_size=10))))
    incremental = MatchIndex(TAXONOMY, top_k=2, min_score=0.2)
    for event in arrivals:
        apply(incremental, event)

    from_scratch = MatchIndex(TAXONOMY, top_k=2, min_score=0.2)
    for event in sorted(events, key=lambda e: e[1]):
        apply(from_scratch, event)
    from_scratch.rank_everything()

    assert incremental.tops() == from_scratch.tops()
    assert from_scratch.tops() == exhaustive_tops(from_scratch), "the index's shortcuts lose nothing"


def exhaustive_tops(index: MatchIndex) -> dict[str, list[tuple[str, float]]]:
    """Every open need against every offer, no index, no shortcut."""
    tops = {}
    for need_id, need in sorted(index.needs.items()):
        found = []
        for offer in index.offers.values():
            relation = index.relations[need.skill].get(offer.skill)
            fit = evaluate(need, offer, index.members.get(offer.member_id), relation) if relation else None
            if fit and fit.score >= index.min_score and (need_id, offer.offer_id) not in index.declined:
                found.append((-fit.score, offer.offer_id))
        if found:
            tops[need_id] = [(offer_id, -score) for score, offer_id in sorted(found)[: index.top_k]]
    return tops


def test_an_offer_interested_in_the_projects_sector_beats_earlier_ones_that_are_not() -> None:
    """Without a bond, only offers interested in the need's sector can reach the best scores: ranking
    walks them first, so a later id loses nothing to earlier, less interested offers."""
    from matching.timezones import country_offset

    index = MatchIndex(TAXONOMY, top_k=1, min_score=0.2)
    index.territory_registered("commune", None, "MA")
    for n, sectors in ((1, {"health"}), (2, {"energy"})):
        index.member_upserted(
            MemberFacts(f"m{n}", frozenset({"fr"}), (), frozenset(sectors), country_offset("MA"), as_of=1)
        )
        index.offer_upserted(
            OfferFacts(f"o{n}", f"m{n}", "energy.solar", 4, frozenset({"remote"}), frozenset({"fr"}), as_of=1)
        )
    need = NeedSpec("n1", "energy.solar", 2, "remote", 1)
    index.project_upserted(
        ProjectFacts("p1", "commune", "owner", "energy", frozenset({"fr"}), (need,), as_of=1)
    )

    assert [offer_id for offer_id, _ in index.tops()["n1"]] == ["o2"], index.tops()
    assert index.tops() == exhaustive_tops(index)


def _state(index: MatchIndex) -> dict[str, Any]:
    """Everything the index holds, but empty entries (a lookup of a defaultdict may leave one)."""
    return {
        name: {key: value for key, value in held.items() if value} if isinstance(held, dict) else held
        for name, held in vars(index).items()
        if name not in ("journal", "relations", "answered_by")
    }


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=st.lists(st.one_of(offers(), members(), projects(), others()), max_size=25),
    changes=st.lists(st.one_of(offers(), offers(), members(), projects(), others()), min_size=1, max_size=25),
)
def test_changes_made_under_a_journal_and_undone_leave_the_index_exactly_as_it_was(
    before: list[Event], changes: list[Event]
) -> None:
    """A transaction that does not commit: matching undoes its changes in memory instead of rebuilding."""
    index = MatchIndex(TAXONOMY, top_k=2, min_score=0.2)
    for moment, event in enumerate(before, start=1):
        apply(index, at(event, float(moment)))
    held = copy.deepcopy(_state(index))
    index.journal = Journal()
    for moment, event in enumerate(changes, start=len(before) + 1):
        apply(index, at(event, float(moment)))
    index.journal.undo()
    index.journal = None
    assert _state(index) == held
