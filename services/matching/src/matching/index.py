"""The in-memory index that makes matching fast: offers and open needs by skill and mode, and for
each need its current top k offers.

It is built from the database at start and kept current by the events. Every change returns a
`Delta`: the pairs that entered a need's top k (to propose), those that left it (to withdraw) and
those whose score moved. A need's top k is always what ranking every candidate from scratch gives
(ties broken by offer id): whenever an offer in a top k changes or goes, that need is ranked again.
Older facts than those held change nothing, so events may arrive late, twice or out of order.

While a `Journal` is open (`journal`), each change first notes what it replaces, so that the changes
of a transaction that does not commit are undone in memory instead of rebuilding the index.
"""

from __future__ import annotations

import bisect
import heapq
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from passerelle.taxonomy import Taxonomy

from .domain import (
    ANCESTOR_BOND,
    BOND_FIT,
    REMOTE_MODES,
    SKILL_FIT,
    Ending,
    Fit,
    evaluate,
    reasons,
    score,
    score_bound,
    sector_interest,
    spoken,
)
from .facts import MemberFacts, NeedFacts, OfferFacts, ProjectFacts
from .timezones import country_offset

MAX_DEPTH = 8  # commune < province < region < country, with room to spare
NO_LANGUAGE = frozenset({""})  # what an offer whose member names no language is filed under
_ABSENT = object()  # what a journal notes for a key that was not there


class Journal:
    """What the index held before the changes since it opened: each key and set element once, as
    it was first seen, so that `undo()` puts back exactly what was there."""

    def __init__(self) -> None:
        self._seen: set[tuple[int, Any]] = set()
        self._kept: list[tuple[Any, Any, Any]] = []  # container, key or element, what it held
        self._containers: list[Any] = []  # kept alive, so that no container's id is reused

    def keep(self, container: dict[Any, Any], key: Any) -> None:
        if (id(container), key) in self._seen:
            return
        self._seen.add((id(container), key))
        self._containers.append(container)
        held = container.get(key, _ABSENT)
        # The index changes lists and sets in place: keep a copy of them as they were.
        self._kept.append((container, key, held.copy() if isinstance(held, list | set) else held))

    def keep_element(self, container: set[Any], element: Any) -> None:
        if (id(container), element) in self._seen:
            return
        self._seen.add((id(container), element))
        self._containers.append(container)
        self._kept.append((container, element, element in container))

    def undo(self) -> None:
        for container, key, held in reversed(self._kept):
            if isinstance(container, set):
                (container.add if held else container.discard)(key)
            elif held is _ABSENT:
                container.pop(key, None)
            else:
                container[key] = held
        self._seen, self._kept, self._containers = set(), [], []


@dataclass(frozen=True, slots=True)
class Ranked:
    """An offer in a need's top k."""

    offer_id: str
    fit: Fit

    @property
    def key(self) -> tuple[float, str]:
        return (-self.fit.score, self.offer_id)


@dataclass
class Delta:
    """What one change did to the tops, in order; `net()` keeps only the overall effect."""

    steps: list[tuple[str, str, str, Any]] = field(default_factory=list)  # kind, need, offer, fit|reason

    def __iadd__(self, other: Delta) -> Delta:
        self.steps += other.steps
        return self

    def entered(self, need_id: str, offer_id: str, fit: Fit) -> None:
        self.steps.append(("in", need_id, offer_id, fit))

    def left(self, need_id: str, offer_id: str, reason: str) -> None:
        self.steps.append(("out", need_id, offer_id, reason))

    def rescored(self, need_id: str, offer_id: str, fit: Fit) -> None:
        self.steps.append(("rescore", need_id, offer_id, fit))

    def net(self) -> Effect:
        first: dict[tuple[str, str], str] = {}
        last: dict[tuple[str, str], tuple[str, Any]] = {}
        for kind, need_id, offer_id, detail in self.steps:
            first.setdefault((need_id, offer_id), kind)
            last[(need_id, offer_id)] = (kind, detail)
        effect = Effect()
        for pair, (kind, detail) in last.items():
            was_in = first[pair] in ("out", "rescore")
            if kind == "out" and was_in:
                effect.withdrawn.append((*pair, detail))
            elif kind != "out" and not was_in:
                effect.proposed.append((*pair, detail))
            elif kind != "out":
                effect.rescored.append((*pair, detail))
        return effect


@dataclass
class Effect:
    proposed: list[tuple[str, str, Fit]] = field(default_factory=list)
    withdrawn: list[tuple[str, str, str]] = field(default_factory=list)
    rescored: list[tuple[str, str, Fit]] = field(default_factory=list)


def skill_relations(taxonomy: Taxonomy) -> dict[str, dict[str, str]]:
    """For each needed skill, the offered skills that answer it and how: exact, narrower, related,
    broader (the best relation wins when a skill is several)."""
    related_to: dict[str, set[str]] = defaultdict(set)
    for skill in taxonomy:
        for other in skill.related:
            related_to[skill.code].add(other)
            related_to[other].add(skill.code)
    relations: dict[str, dict[str, str]] = {}
    for skill in taxonomy:
        answers = {parent: "broader" for parent in skill.broader}
        answers.update({other: "related" for other in related_to[skill.code]})
        answers.update({child: "narrower" for child in taxonomy.descendants(skill.code)})
        answers[skill.code] = "exact"
        relations[skill.code] = answers
    return relations


class MatchIndex:
    """Read models of offers, members, projects and territories, and each open need's top k."""

    def __init__(self, taxonomy: Taxonomy, top_k: int = 10, min_score: float = 0.3) -> None:
        self.top_k, self.min_score = top_k, min_score
        self.relations = skill_relations(taxonomy)
        self.answered_by: dict[str, dict[str, str]] = defaultdict(dict)  # offered -> needed -> relation
        for needed, answers in self.relations.items():
            for offered, relation in answers.items():
                self.answered_by[offered][needed] = relation

        self.offers: dict[str, OfferFacts] = {}
        # Offer ids by skill, mode and language spoken (the offer's or its member's; "" for none), in
        # id order: ranking walks them in the order ties are broken, and stops once no later offer
        # can beat the k-th.
        self.offers_by_skill_mode: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        # Offer ids by skill, mode, sector of interest (the offer's or its member's) and language
        # spoken, in id order: ranking walks these first, as only they can reach the best scores
        # without a bond. By language too, as most offers of a skill do not speak a project's.
        self.interested: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
        self.languages_by_skill_mode: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.offers_by_member: dict[str, set[str]] = defaultdict(set)
        # Offer ids by territory, skill and bond of their member to it, in id order: ranking walks
        # them strongest bond first, each until no later offer can beat the k-th.
        self.bonded: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        # The offers that name their territories, by territory and skill: with the bonded ones,
        # every candidate for work on site.
        self.placed: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.withdrawn_offers: set[str] = set()
        self.members: dict[str, MemberFacts] = {}
        self.erased: set[str] = set()
        self.projects: dict[str, ProjectFacts] = {}
        self.closed: set[str] = set()
        self.territories: dict[str, tuple[str | None, str]] = {}  # id -> (parent, country)
        self.needs: dict[str, NeedFacts] = {}
        self.needs_by_skill_mode: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.needs_by_project: dict[str, set[str]] = defaultdict(set)
        self.filled: set[str] = set()
        self.declined: set[tuple[str, str]] = set()
        self.top: dict[str, list[Ranked]] = {}
        # offer_id -> the needs whose top k hold it; a tuple, as most offers are in one top or none
        self.tops_with_offer: dict[str, tuple[str, ...]] = {}
        self.journal: Journal | None = None  # open while the changes may still be undone

    def _keep(self, container: dict[Any, Any], key: Any) -> None:
        """Before `container[key]` changes, or the list or set it holds changes in place."""
        if self.journal is not None:
            self.journal.keep(container, key)

    def _keep_element(self, container: set[Any], element: Any) -> None:
        if self.journal is not None:
            self.journal.keep_element(container, element)

    # Offers

    def offer_upserted(self, offer: OfferFacts) -> Delta:
        held = self.offers.get(offer.offer_id)
        if offer.offer_id in self.withdrawn_offers or offer.member_id in self.erased:
            return Delta()
        if held is not None and held.as_of >= offer.as_of:
            return Delta()
        if held is not None:
            self._unindex_offer(held)
        self.index_offer(offer)
        return self._refresh_offer(offer)

    def offer_withdrawn(self, offer_id: str) -> Delta:
        self._keep_element(self.withdrawn_offers, offer_id)
        self.withdrawn_offers.add(offer_id)
        return self._forget_offer(offer_id, Ending.OFFER_WITHDRAWN)

    def index_offer(self, offer: OfferFacts, in_order: bool = True) -> None:
        """Hold the offer; when loading many, `in_order=False` defers ordering to `order_buckets()`."""
        self._keep(self.offers, offer.offer_id)
        self.offers[offer.offer_id] = offer
        self._keep(self.offers_by_member, offer.member_id)
        self.offers_by_member[offer.member_id].add(offer.offer_id)
        add = bisect.insort if in_order else list.append
        for buckets, key in self._buckets_of(offer):
            self._keep(buckets, key)
            add(buckets[key], offer.offer_id)
        languages = self._spoken(offer)
        for mode in offer.modes:
            self._keep(self.languages_by_skill_mode, (offer.skill, mode))
            self.languages_by_skill_mode[(offer.skill, mode)].update(languages)
        for place in offer.territory_ids:
            self._keep(self.placed, (place, offer.skill))
            self.placed[(place, offer.skill)].add(offer.offer_id)

    def _unindex_offer(self, offer: OfferFacts) -> None:
        self._keep(self.offers, offer.offer_id)
        self.offers.pop(offer.offer_id, None)
        self._keep(self.offers_by_member, offer.member_id)
        self.offers_by_member[offer.member_id].discard(offer.offer_id)
        for buckets, key in self._buckets_of(offer):
            self._keep(buckets, key)
            _remove(buckets[key], offer.offer_id)
        for place in offer.territory_ids:
            self._keep(self.placed, (place, offer.skill))
            self.placed[(place, offer.skill)].discard(offer.offer_id)

    def _buckets_of(self, offer: OfferFacts) -> Iterator[tuple[dict[Any, list[str]], Any]]:
        """Where the id-ordered lists that hold the offer are (their dict and key): by skill, mode
        and language; by these and sector of interest; by its member's bonds. The languages and
        sectors are the offer's and its member's."""
        member = self.members.get(offer.member_id)
        spoken = self._spoken(offer)
        sectors = offer.sectors | member.sectors if member else offer.sectors
        skill = offer.skill
        for mode in offer.modes:
            for language in spoken:
                yield self.offers_by_skill_mode, (skill, mode, language)
                for sector in sectors:
                    yield self.interested, (skill, mode, sector, language)
        for place, bond in member.attachments if member else ():
            yield self.bonded, (place, skill, bond)

    def _spoken(self, offer: OfferFacts) -> frozenset[str]:
        return spoken(offer, self.members.get(offer.member_id)) or NO_LANGUAGE

    def order_buckets(self) -> None:
        for bucket in self.offers_by_skill_mode.values():
            bucket.sort()
        for bucket in self.interested.values():
            bucket.sort()
        for bucket in self.bonded.values():
            bucket.sort()

    def _forget_offer(self, offer_id: str, reason: str) -> Delta:
        offer = self.offers.get(offer_id)
        if offer is None:
            return Delta()
        self._unindex_offer(offer)
        delta = Delta()
        self._keep(self.tops_with_offer, offer_id)
        for need_id in sorted(self.tops_with_offer.pop(offer_id, ())):
            delta += self._rerank(need_id, reason)
        return delta

    def _refresh_offer(self, offer: OfferFacts) -> Delta:
        """Rank again the needs whose top k hold the offer, then offer it to the others."""
        delta = Delta()
        for need_id in sorted(self.tops_with_offer.get(offer.offer_id, ())):
            delta += self._rerank(need_id, Ending.NO_LONGER_FITS)
        return self._offer_entered(offer, delta)

    def _offer_entered(self, offer: OfferFacts, delta: Delta) -> Delta:
        member = self.members.get(offer.member_id)
        already = set(self.tops_with_offer.get(offer.offer_id, ()))
        for needed, relation in self.answered_by.get(offer.skill, {}).items():
            for mode in offer.modes:
                for need_id in self.needs_by_skill_mode.get((needed, mode), ()):
                    if need_id in already or (need_id, offer.offer_id) in self.declined:
                        continue
                    need = self.needs[need_id]
                    self._keep(self.top, need_id)
                    top = self.top.setdefault(need_id, [])
                    bound = score_bound(need, relation, sector_interest(need, offer, member))
                    full = len(top) >= self.top_k and top[-1].fit.score > bound
                    if full and (member is None or member.places.isdisjoint(need.lineage)):
                        continue  # cannot reach this need's top k without a bond to its place
                    value = score(need, offer, member, relation)
                    if value is None or value < self.min_score:
                        continue
                    if len(top) >= self.top_k and (-value, offer.offer_id) >= top[-1].key:
                        continue
                    explained = self._explained(need, offer.offer_id, value)
                    top.append(explained)
                    top.sort(key=lambda ranked: ranked.key)
                    self._link(offer.offer_id, need_id)
                    delta.entered(need_id, offer.offer_id, explained.fit)
                    if len(top) > self.top_k:
                        dropped = top.pop()
                        self._unlink(dropped.offer_id, need_id)
                        delta.left(need_id, dropped.offer_id, Ending.OUTRANKED)
        return delta

    # Members

    def member_upserted(self, member: MemberFacts) -> Delta:
        held = self.members.get(member.member_id)
        if member.member_id in self.erased or (held is not None and held.as_of >= member.as_of):
            return Delta()
        offers = [
            self.offers[offer_id] for offer_id in sorted(self.offers_by_member.get(member.member_id, set()))
        ]
        for offer in offers:
            self._unindex_offer(offer)
        self._keep(self.members, member.member_id)
        self.members[member.member_id] = member
        for offer in offers:
            self.index_offer(offer)
        delta = Delta()
        for offer in offers:
            delta += self._refresh_offer(offer)
        return delta

    def member_erased(self, member_id: str) -> Delta:
        self._keep_element(self.erased, member_id)
        self.erased.add(member_id)
        delta = Delta()
        for offer_id in sorted(self.offers_by_member.get(member_id, set())):
            delta += self._forget_offer(offer_id, Ending.MEMBER_ERASED)
        self._keep(self.offers_by_member, member_id)
        self.offers_by_member.pop(member_id, None)
        self._keep(self.members, member_id)
        self.members.pop(member_id, None)
        return delta

    # Territories and projects

    def territory_registered(self, territory_id: str, parent_id: str | None, country: str) -> Delta:
        if self.territories.get(territory_id) == (parent_id, country):
            return Delta()
        self._keep(self.territories, territory_id)
        self.territories[territory_id] = (parent_id, country)
        delta = Delta()
        for need_id in sorted(self.needs):
            need = self.needs[need_id]
            lineage = self.lineage(self.projects[need.project_id].territory_id)
            if lineage != need.lineage or need.utc_offset != self._offset(lineage):
                self._keep(self.needs, need_id)
                self.needs[need_id] = replace(need, lineage=lineage, utc_offset=self._offset(lineage))
                delta += self._rerank(need_id, Ending.NO_LONGER_FITS)
        return delta

    def lineage(self, territory_id: str) -> tuple[str, ...]:
        chain = [territory_id]
        parent = self.territories.get(territory_id, (None, ""))[0]
        while parent and parent not in chain and len(chain) < MAX_DEPTH:
            chain.append(parent)
            parent = self.territories.get(parent, (None, ""))[0]
        return tuple(chain)

    def _offset(self, lineage: tuple[str, ...]) -> float | None:
        known = self.territories.get(lineage[0])
        return country_offset(known[1]) if known else None

    def load_project(self, project: ProjectFacts) -> None:
        """At start: the project and its open needs, without ranking (their tops are restored)."""
        self.projects[project.project_id] = project
        for need in self._needs_of(project):
            if need.need_id not in self.filled:
                self.needs[need.need_id] = need
                self.needs_by_project[need.project_id].add(need.need_id)
                self.needs_by_skill_mode[(need.skill, need.mode)].add(need.need_id)

    def _needs_of(self, project: ProjectFacts) -> list[NeedFacts]:
        lineage = self.lineage(project.territory_id)
        offset = self._offset(lineage)
        return [
            NeedFacts(
                need_id=spec.need_id,
                project_id=project.project_id,
                skill=spec.skill,
                min_level=spec.min_level,
                mode=spec.mode,
                count=spec.count,
                lineage=lineage,
                languages=project.languages,
                sector=project.sector,
                starts_on=spec.starts_on,
                ends_on=spec.ends_on,
                utc_offset=offset,
            )
            for spec in project.needs
        ]

    def project_upserted(self, project: ProjectFacts) -> Delta:
        """A published or updated project: its open needs become what the snapshot says."""
        held = self.projects.get(project.project_id)
        if project.project_id in self.closed or (held is not None and held.as_of >= project.as_of):
            return Delta()
        self._keep(self.projects, project.project_id)
        self.projects[project.project_id] = project
        wanted = {need.need_id: need for need in self._needs_of(project)}
        delta = Delta()
        for need_id in sorted(self.needs_by_project.get(project.project_id, set())):
            if need_id not in wanted:
                delta += self._drop_need(need_id, Ending.NEED_REMOVED)
        for need_id, need in wanted.items():
            if need_id in self.filled or self.needs.get(need_id) == need:
                continue
            self._unindex_need(need_id)
            self._keep(self.needs, need_id)
            self.needs[need_id] = need
            self._keep(self.needs_by_project, need.project_id)
            self.needs_by_project[need.project_id].add(need_id)
            self._keep(self.needs_by_skill_mode, (need.skill, need.mode))
            self.needs_by_skill_mode[(need.skill, need.mode)].add(need_id)
            delta += self._rerank(need_id, Ending.NO_LONGER_FITS)
        return delta

    def project_closed(self, project_id: str) -> Delta:
        self._keep_element(self.closed, project_id)
        self.closed.add(project_id)
        self._keep(self.projects, project_id)
        self.projects.pop(project_id, None)
        delta = Delta()
        for need_id in sorted(self.needs_by_project.get(project_id, set())):
            delta += self._drop_need(need_id, Ending.PROJECT_CLOSED)
        return delta

    def need_filled(self, need_id: str) -> Delta:
        self._keep_element(self.filled, need_id)
        self.filled.add(need_id)
        return self._drop_need(need_id, Ending.NEED_FILLED)

    def declined_by_member(self, need_id: str, offer_id: str) -> Delta:
        self._keep_element(self.declined, (need_id, offer_id))
        self.declined.add((need_id, offer_id))
        return self._rerank(need_id, Ending.DECLINED) if need_id in self.needs else Delta()

    def _drop_need(self, need_id: str, reason: str) -> Delta:
        self._unindex_need(need_id)
        self._keep(self.needs, need_id)
        dropped = self.needs.pop(need_id, None)
        if dropped is not None:
            self._keep(self.needs_by_project, dropped.project_id)
            self.needs_by_project[dropped.project_id].discard(need_id)
        delta = Delta()
        self._keep(self.top, need_id)
        for ranked in self.top.pop(need_id, []):
            self._unlink(ranked.offer_id, need_id)
            delta.left(need_id, ranked.offer_id, reason)
        return delta

    def _unindex_need(self, need_id: str) -> None:
        need = self.needs.get(need_id)
        if need is not None:
            self._keep(self.needs_by_skill_mode, (need.skill, need.mode))
            self.needs_by_skill_mode[(need.skill, need.mode)].discard(need_id)

    # Ranking

    def rank(self, need: NeedFacts) -> list[Ranked]:
        """The need's top k among every candidate offer: what a recomputation from scratch gives.

        Offers naming the project's place or a place above it come first, then those of members
        bonded to one, best possible score first; work on site takes no one else. For remote work
        the others follow, skill by skill from the best relation down: first those interested in the
        need's sector, then the rest. Each list is walked in id order until no later offer in it can
        beat the k-th.
        """
        answers = self.relations.get(need.skill, {})
        best: list[tuple[float, _Backwards]] = []  # a heap whose root is the k-th best
        seen: set[str] = set()
        bonded: list[tuple[float, str, list[str]]] = []  # bound, relation, offer ids
        for depth, place in enumerate(need.lineage):
            reach = 1.0 if depth == 0 else ANCESTOR_BOND
            for offered, relation in answers.items():
                if placed := self.placed.get((place, offered)):
                    self._consider_all(need, placed, relation, best, seen)
                for bond, fit in BOND_FIT.items():
                    if offer_ids := self.bonded.get((place, offered, bond)):
                        bonded.append((score_bound(need, relation, bond=fit * reach), relation, offer_ids))
        # Strongest first. An offer whose member has a stronger bond elsewhere in the lineage may
        # score above this list's bound, but it is in that stronger list too, whose bound covers it.
        for bound, relation, offer_ids in sorted(bonded, key=lambda walk: -walk[0]):
            self._consider_all(need, offer_ids, relation, best, seen, bound)
        if need.mode not in REMOTE_MODES:
            return self._ranked(need, best)  # on site: only offers tied to the place can qualify
        for offered, relation in sorted(answers.items(), key=lambda item: (-SKILL_FIT[item[1]], item[0])):
            for interested in (True, False):
                bound = score_bound(need, relation, interested)
                walk = self._in_id_order(offered, need, need.sector if interested else None)
                self._consider_all(need, walk, relation, best, seen, bound)
        return self._ranked(need, best)

    def _consider_all(
        self,
        need: NeedFacts,
        offer_ids: Iterable[str],
        relation: str,
        best: list[tuple[float, _Backwards]],
        seen: set[str],
        bound: float | None = None,
    ) -> None:
        """Score each offer once and keep the k best in `best`; with a `bound` (the offers come in id
        order and none scores more), stop as soon as no later one can beat the k-th.

        The hot loop of matching: hence the locals, and no allocation for an offer that loses."""
        top_k, min_score, offers, members = self.top_k, self.min_score, self.offers, self.members
        declined, min_level, mode = self.declined, need.min_level, need.mode
        for offer_id in offer_ids:
            full = len(best) >= top_k
            if full and bound is not None:
                worst, backwards = best[0]
                if worst > bound or (worst == bound and offer_id > backwards.offer_id):
                    return
            if offer_id in seen:
                continue
            seen.add(offer_id)
            offer = offers[offer_id]
            if offer.level < min_level or mode not in offer.modes:
                continue  # score() would say so too; most candidates fail here, so it is asked first
            value = score(need, offer, members.get(offer.member_id), relation)
            if value is None or value < min_score or (declined and (need.need_id, offer_id) in declined):
                continue
            if not full:
                heapq.heappush(best, (value, _Backwards(offer_id)))
                continue
            worst, backwards = best[0]
            if value > worst or (value == worst and offer_id < backwards.offer_id):
                heapq.heapreplace(best, (value, _Backwards(offer_id)))

    def _in_id_order(self, offered: str, need: NeedFacts, sector: str | None) -> Iterator[str]:
        """The offers of a skill in the need's mode, in id order, once each: only those speaking one
        of the project's languages when it names some, and only those interested in `sector` if
        given."""
        languages: Iterable[str] = need.languages or self.languages_by_skill_mode.get(
            (offered, need.mode), set()
        )
        if sector is None:
            buckets = [self.offers_by_skill_mode.get((offered, need.mode, lang), []) for lang in languages]
        else:
            buckets = [self.interested.get((offered, need.mode, sector, lang), []) for lang in languages]
        previous = None
        for offer_id in buckets[0] if len(buckets) == 1 else heapq.merge(*buckets):
            if offer_id != previous:
                previous = offer_id
                yield offer_id

    def _ranked(self, need: NeedFacts, best: list[tuple[float, _Backwards]]) -> list[Ranked]:
        ranked = sorted((-value, backwards.offer_id) for value, backwards in best)
        return [self._explained(need, offer_id, -negated) for negated, offer_id in ranked]

    def fit(self, need: NeedFacts, offer_id: str) -> Fit | None:
        offer = self.offers.get(offer_id)
        relation = self.relations.get(need.skill, {}).get(offer.skill) if offer else None
        if offer is None or relation is None or (need.need_id, offer_id) in self.declined:
            return None
        found = evaluate(need, offer, self.members.get(offer.member_id), relation)
        return found if found is not None and found.score >= self.min_score else None

    def _explained(self, need: NeedFacts, offer_id: str, value: float) -> Ranked:
        """An offer known to score `value` for the need, with its reasons."""
        offer = self.offers[offer_id]
        relation = self.relations[need.skill][offer.skill]
        return Ranked(offer_id, Fit(value, reasons(need, offer, self.members.get(offer.member_id), relation)))

    def _rerank(self, need_id: str, reason: str) -> Delta:
        """Rank the need again; an offer that still fits but left the top k was outranked."""
        old = {ranked.offer_id: ranked for ranked in self.top.get(need_id, [])}
        need = self.needs.get(need_id)
        new = self.rank(need) if need else []
        self._keep(self.top, need_id)
        self.top[need_id] = new
        delta = Delta()
        kept = {ranked.offer_id for ranked in new}
        for offer_id in sorted(old.keys() - kept):
            self._unlink(offer_id, need_id)
            still_fits = need is not None and self.fit(need, offer_id) is not None
            delta.left(need_id, offer_id, Ending.OUTRANKED if still_fits else reason)
        for ranked in new:
            self._link(ranked.offer_id, need_id)
            before = old.get(ranked.offer_id)
            if before is None:
                delta.entered(need_id, ranked.offer_id, ranked.fit)
            elif before.fit != ranked.fit:
                delta.rescored(need_id, ranked.offer_id, ranked.fit)
        return delta

    def _link(self, offer_id: str, need_id: str) -> None:
        held = self.tops_with_offer.get(offer_id, ())
        if need_id not in held:
            self._keep(self.tops_with_offer, offer_id)
            self.tops_with_offer[offer_id] = (*held, need_id)

    def _unlink(self, offer_id: str, need_id: str) -> None:
        self._keep(self.tops_with_offer, offer_id)
        held = tuple(n for n in self.tops_with_offer.get(offer_id, ()) if n != need_id)
        if held:
            self.tops_with_offer[offer_id] = held
        else:
            self.tops_with_offer.pop(offer_id, None)

    def tops(self) -> dict[str, list[tuple[str, float]]]:
        """Every open need's top k as (offer, score): what two indexes are compared on."""
        return {
            need_id: [(ranked.offer_id, ranked.fit.score) for ranked in top]
            for need_id, top in sorted(self.top.items())
            if top
        }

    def rank_everything(self) -> None:
        """Rank every open need from scratch."""
        self.top, self.tops_with_offer = {}, {}
        for need_id in sorted(self.needs):
            self.restore_top(need_id, self.rank(self.needs[need_id]))

    def restore_top(self, need_id: str, ranked: Iterable[Ranked]) -> None:
        """A need's top k as known elsewhere (the database, at start)."""
        self.top[need_id] = sorted(ranked, key=lambda entry: entry.key)
        for entry in self.top[need_id]:
            self._link(entry.offer_id, need_id)


class _Backwards:
    """An offer id that sorts the other way: in a min-heap of (score, id) the root is the worst
    entry, the lowest score and, among equal scores, the greatest id."""

    __slots__ = ("offer_id",)

    def __init__(self, offer_id: str) -> None:
        self.offer_id = offer_id

    def __lt__(self, other: _Backwards) -> bool:
        return other.offer_id < self.offer_id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Backwards) and other.offer_id == self.offer_id

    def __hash__(self) -> int:
        return hash(self.offer_id)


def _remove(bucket: list[str], offer_id: str) -> None:
    position = bisect.bisect_left(bucket, offer_id)
    if position < len(bucket) and bucket[position] == offer_id:
        del bucket[position]
