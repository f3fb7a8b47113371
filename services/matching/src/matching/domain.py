"""Whether an offer fits a need, and how well: pure rules that explain themselves."""

from __future__ import annotations

from dataclasses import dataclass, field

BOND_WEIGHTS = {"origin": 0.25, "family": 0.2, "heart": 0.15}
SKILL_EXACT = 0.5
SHARED_LANGUAGE = 0.15


@dataclass(frozen=True)
class Offer:
    offer_id: str
    member_id: str
    skill: str
    level: int
    modes: list[str]
    languages: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MemberFacts:
    member_id: str
    languages: list[str] = field(default_factory=list)
    attachments: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class OpenNeed:
    project_id: str
    need_id: str
    territory_id: str
    skill: str
    min_level: int
    mode: str
    project_languages: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Fit:
    score: float
    reasons: list[str]


def fit(need: OpenNeed, offer: Offer, member: MemberFacts | None) -> Fit | None:
    """None when a hard rule excludes the pair; otherwise a score in 0..1 and its reasons."""
    if offer.skill != need.skill or offer.level < need.min_level or need.mode not in offer.modes:
        return None
    languages = set(offer.languages) | set(member.languages if member else [])
    shared = sorted(languages & set(need.project_languages))
    if need.project_languages and not shared:
        return None
    score, reasons = SKILL_EXACT, ["skill_exact", f"mode:{need.mode}"]
    bonds = [
        a["bond"] for a in (member.attachments if member else []) if a["territory_id"] == need.territory_id
    ]
    if bonds:
        bond = max(bonds, key=lambda name: BOND_WEIGHTS[name])
        score += BOND_WEIGHTS[bond]
        reasons.append(f"bond_{bond}")
    if shared:
        score += SHARED_LANGUAGE
        reasons += [f"language:{language}" for language in shared]
    return Fit(round(min(score, 1.0), 4), reasons)
