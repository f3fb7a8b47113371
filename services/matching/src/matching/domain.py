"""Whether an offer fits a need, how well, and why; and how a match moves through its life.

Pure rules: no I/O. The index (index.py) decides which pairs to evaluate; this module evaluates one,
and says what may happen to a match once proposed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from passerelle.errors import IllegalTransition

from .facts import MemberFacts, NeedFacts, OfferFacts

# Done from afar: no tie to the place needed. A call is an hour's talk with an expert: matched like
# remote work, with the time-zone distance weighing more (both must be awake at the same hour).
REMOTE_MODES = frozenset({"remote", "mentoring", "call"})

# Weights of the score's parts; a part that does not apply to a pair is left out and the others
# are rescaled, so every score stays in 0..1.
WEIGHT_SKILL = 0.35
WEIGHT_BOND = 0.25
WEIGHT_LANGUAGE = 0.15
WEIGHT_AVAILABILITY = 0.10
WEIGHT_SECTOR = 0.05
WEIGHT_TIME_ZONE = 0.10
WEIGHT_TIME_ZONE_CALL = 0.30

# How well an offered skill answers a needed one: the same code, a more specific skill, a related
# one, a broader one.
SKILL_FIT = {"exact": 1.0, "narrower": 0.85, "related": 0.6, "broader": 0.5}
BOND_FIT = {"origin": 1.0, "family": 0.8, "heart": 0.6}
ANCESTOR_BOND = 0.9  # a bond to the region counts a little less than one to the commune itself
CLOSE_TIME_ZONES = 2.0  # hours


@dataclass(frozen=True, slots=True)
class Fit:
    score: float
    reasons: tuple[str, ...]


def evaluate(need: NeedFacts, offer: OfferFacts, member: MemberFacts | None, relation: str) -> Fit | None:
    """None when a hard rule excludes the pair; otherwise its score and the reasons for it."""
    value = score(need, offer, member, relation)
    return None if value is None else Fit(value, reasons(need, offer, member, relation))


def score(need: NeedFacts, offer: OfferFacts, member: MemberFacts | None, relation: str) -> float | None:
    """None when a hard rule excludes the pair; otherwise its score in 0..1. Ranking calls this for
    every candidate, so it builds no reasons.

    Hard rules: the mode and level the need asks for, a window of availability that overlaps the
    need's when both give dates, a shared language when the project names languages, and for work on
    site a tie to the place (the offer's territories, or else the member's attachments).
    """
    if offer.level < need.min_level or need.mode not in offer.modes:
        return None
    overlap = _availability(need, offer)
    if _excluded(need, offer, member, overlap):
        return None
    # Summed in the order score_bound() sums, so that a score equal to a bound is equal to the bit.
    total = (
        WEIGHT_SKILL * SKILL_FIT[relation]
        + WEIGHT_BOND * _bond(need, member)[0]
        + WEIGHT_SECTOR * sector_interest(need, offer, member)
    )
    weights = WEIGHT_SKILL + WEIGHT_BOND + WEIGHT_SECTOR
    if need.languages:  # not excluded: the member speaks one of them
        total += WEIGHT_LANGUAGE
        weights += WEIGHT_LANGUAGE
    if overlap is not None:
        total += WEIGHT_AVAILABILITY * overlap
        weights += WEIGHT_AVAILABILITY
    distance = _time_zone_distance(need, member)
    if distance is not None:
        weight = time_zone_weight(need.mode)
        total += weight * max(0.0, 1 - distance / 12)
        weights += weight
    return round(total / weights, 4)


def reasons(need: NeedFacts, offer: OfferFacts, member: MemberFacts | None, relation: str) -> tuple[str, ...]:
    """The parts of a pair's score, as machine codes (shown to people as sentences)."""
    said = [f"skill_{relation}", f"mode:{need.mode}"]
    bond_name = _bond(need, member)[1]
    if bond_name:
        said.append(f"bond_{bond_name}")
    said += [f"language:{language}" for language in sorted(spoken(offer, member) & need.languages)]
    overlap = _availability(need, offer)
    if overlap is not None:
        said.append("available" if overlap >= 1 else "available_partly")
    if sector_interest(need, offer, member):
        said.append(f"sector:{need.sector}")
    distance = _time_zone_distance(need, member)
    if distance is not None and distance <= CLOSE_TIME_ZONES:
        said.append("timezone_close")
    return tuple(said)


def score_bound(need: NeedFacts, relation: str, interested: bool = True, bond: float = 0.0) -> float:
    """The best score an offer of this relation can reach for this need with a bond worth at most
    `bond` (0: none) to its place: every other part that may apply at its best (a part that applies
    with value 1 only raises a score below 1); availability only when the need has dates, time zones
    only for remote work; sector interest only for offers `interested` in the need's sector."""
    total = WEIGHT_SKILL * SKILL_FIT[relation] + WEIGHT_BOND * bond + WEIGHT_SECTOR * interested
    weights = WEIGHT_SKILL + WEIGHT_BOND + WEIGHT_SECTOR
    if need.languages:
        total, weights = total + WEIGHT_LANGUAGE, weights + WEIGHT_LANGUAGE
    if need.starts_on or need.ends_on:
        total, weights = total + WEIGHT_AVAILABILITY, weights + WEIGHT_AVAILABILITY
    if need.mode in REMOTE_MODES and need.utc_offset is not None:
        weight = time_zone_weight(need.mode)
        total, weights = total + weight, weights + weight
    return round(total / weights, 4)


def time_zone_weight(mode: str) -> float:
    return WEIGHT_TIME_ZONE_CALL if mode == "call" else WEIGHT_TIME_ZONE


def _excluded(need: NeedFacts, offer: OfferFacts, member: MemberFacts | None, overlap: float | None) -> bool:
    if overlap is not None and overlap <= 0:
        return True
    if (
        need.languages
        and need.languages.isdisjoint(offer.languages)
        and (member is None or need.languages.isdisjoint(member.languages))
    ):
        return True  # the project names its languages and the member speaks none of them
    if offer.territory_ids or need.mode not in REMOTE_MODES:
        places = offer.territory_ids or (member.places if member else frozenset())
        return places.isdisjoint(need.lineage)
    return False


def sector_interest(need: NeedFacts, offer: OfferFacts, member: MemberFacts | None) -> bool:
    """Whether the offer or its member names the project's sector among their interests."""
    return need.sector in offer.sectors or (member is not None and need.sector in member.sectors)


def spoken(offer: OfferFacts, member: MemberFacts | None) -> frozenset[str]:
    """The languages the offer names and its member speaks."""
    return offer.languages | member.languages if member else offer.languages


def _time_zone_distance(need: NeedFacts, member: MemberFacts | None) -> float | None:
    """Hours between the member and the project, for remote work when both are known."""
    if need.mode not in REMOTE_MODES or need.utc_offset is None or member is None:
        return None
    return None if member.utc_offset is None else abs(member.utc_offset - need.utc_offset)


def _bond(need: NeedFacts, member: MemberFacts | None) -> tuple[float, str | None]:
    """The member's strongest bond to the project's territory or a territory above it."""
    best, name = 0.0, None
    if member is None:
        return best, name
    for territory_id, bond in member.attachments:
        if territory_id in need.lineage:
            value = BOND_FIT[bond] * (1.0 if territory_id == need.lineage[0] else ANCESTOR_BOND)
            if value > best:
                best, name = value, bond
    return best, name


def _availability(need: NeedFacts, offer: OfferFacts) -> float | None:
    """How much of the need's dates the offer covers (0..1), when both give dates; else None."""
    if not (need.starts_on or need.ends_on) or not (offer.available_from or offer.available_until):
        return None
    start = max(need.starts_on or date.min, offer.available_from or date.min)
    end = min(need.ends_on or date.max, offer.available_until or date.max)
    if end < start:
        return 0.0
    if need.starts_on and need.ends_on:
        return ((end - start).days + 1) / ((need.ends_on - need.starts_on).days + 1)
    return 1.0


# The life of a match: who may move it, from where, to where, and what ends it.


class Status(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CONFIRMED = "confirmed"
    WITHDRAWN = "withdrawn"


class Action(StrEnum):
    ACCEPT = "accept"  # the member (or those who manage it)
    DECLINE = "decline"  # the member (or those who manage it)
    CONFIRM = "confirm"  # the project's owner, its managers or a manager of its territory
    PASS = "pass"  # the project side declines an accepted match, kindly


class Ending(StrEnum):
    """Why an offer left a need's top k, and so why its match may end."""

    OUTRANKED = "outranked"  # better offers came
    NO_LONGER_FITS = "no_longer_fits"  # the offer, the member or the need changed
    DECLINED = "declined"
    OFFER_WITHDRAWN = "offer_withdrawn"
    MEMBER_ERASED = "member_erased"
    PROJECT_CLOSED = "project_closed"
    NEED_REMOVED = "need_removed"
    NEED_FILLED = "need_filled"
    PASSED = "passed"  # the project side passed on an accepted match
    EXPIRED = "expired"  # a proposal was not answered in time


LIVE = (Status.PROPOSED, Status.ACCEPTED, Status.CONFIRMED)
TRANSITIONS = {
    Action.ACCEPT: ((Status.PROPOSED,), Status.ACCEPTED),
    Action.DECLINE: ((Status.PROPOSED, Status.ACCEPTED), Status.DECLINED),
    Action.CONFIRM: ((Status.ACCEPTED,), Status.CONFIRMED),
    Action.PASS: ((Status.ACCEPTED,), Status.WITHDRAWN),
}
# Endings after which the pair is never proposed again, as after the member declined.
CLOSING = frozenset({Ending.PASSED, Ending.EXPIRED})
# Anything ends a proposal; once the member accepted it, only what takes the offer or the need away;
# once the project confirmed it, only what takes the offer, the member or the need itself away.
ENDS_ACCEPTED = frozenset(
    {
        Ending.OFFER_WITHDRAWN,
        Ending.MEMBER_ERASED,
        Ending.PROJECT_CLOSED,
        Ending.NEED_REMOVED,
        Ending.NEED_FILLED,
    }
)
ENDS_CONFIRMED = frozenset({Ending.OFFER_WITHDRAWN, Ending.MEMBER_ERASED, Ending.NEED_REMOVED})


def transition(status: str, action: str) -> Status:
    allowed, target = TRANSITIONS[Action(action)]
    if status not in allowed:
        needed = " or ".join(allowed)
        raise IllegalTransition(f"a match can be {target} only when {needed}; this one is {status}")
    return target


def ends(status: str, reason: str) -> bool:
    """Whether a match in `status` ends (is withdrawn) when its offer leaves the top k for `reason`."""
    if status == Status.PROPOSED:
        return True
    if status == Status.ACCEPTED:
        return reason in ENDS_ACCEPTED
    return status == Status.CONFIRMED and reason in ENDS_CONFIRMED


def ended_by(reason: str) -> tuple[Status, ...]:
    """The live statuses a match leaves for `reason`."""
    return tuple(status for status in LIVE if ends(status, reason))
