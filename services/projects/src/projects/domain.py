"""Territories, projects, their needs and pledges: plain rules, no I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from passerelle.errors import IllegalTransition, InvalidField, RuleBroken
from passerelle.taxonomy import Taxonomy

from .commands import CreateProject, EditProject, RegisterTerritory

DRAFT, PUBLISHED, CLOSED = "draft", "published", "closed"
LEVELS = ("commune", "province", "region", "country")  # from the smallest up
# Who may run a project of their own: the territory's local actors and the diaspora's associations.
PROJECT_OWNER_KINDS = ("local_actor", "association")
CENT = Decimal("0.01")
# The largest total the ledger's columns hold (Numeric(15, 2)).
MAX_TOTAL = Decimal("9999999999999.99")


@dataclass(frozen=True)
class Territory:
    territory_id: str
    name: str
    country: str
    level: str
    parent_id: str | None = None


def register_territory(registration: RegisterTerritory, parent: Territory | None) -> Territory:
    territory = Territory(territory_id=str(uuid.uuid4()), **registration.model_dump())
    if parent is not None and LEVELS.index(parent.level) <= LEVELS.index(territory.level):
        raise InvalidField("parent_id", f"a {territory.level} cannot sit under a {parent.level}")
    if parent is not None and parent.country != territory.country:
        raise InvalidField("country", "a territory is in the same country as its parent")
    return territory


# The kind projects keeps of an erased member: the id stays, to refuse its late events and its token.
ERASED_KIND = "erased"


@dataclass(frozen=True)
class MemberFacts:
    """What projects knows of a member: its kind and who may act for it."""

    member_id: str
    kind: str
    managers: list[str]
    # Bonds to territories ({territory_id, bond}), which co-funding offers may ask of a giver.
    attachments: list[dict[str, str]] = field(default_factory=list)

    @property
    def erased(self) -> bool:
        return self.kind == ERASED_KIND

    def may_act_for(self, sub: str) -> bool:
        if self.erased:
            return False
        return sub == self.member_id if self.kind == "person" else sub in self.managers


@dataclass(frozen=True)
class Pledged:
    """What a pledge changed: the project after it, and whether the goal was reached just now."""

    project: Project
    pledge_id: str
    amount: Decimal
    goal_reached_now: bool


@dataclass(frozen=True)
class Project:
    project_id: str
    territory_id: str
    owner_member_id: str
    title: str
    summary: str
    sector: str
    languages: list[str] = field(default_factory=list)
    needs: list[dict[str, Any]] = field(default_factory=list)
    funding: dict[str, str] | None = None
    source_idea_ids: list[str] = field(default_factory=list)
    status: str = DRAFT
    outcome: str | None = None
    pledged_total: Decimal = Decimal("0.00")
    goal_reached_at: datetime | None = None

    def snapshot(self) -> dict[str, Any]:
        """The fields of ProjectPublished and ProjectUpdated."""
        return {
            "project_id": self.project_id,
            "territory_id": self.territory_id,
            "owner_member_id": self.owner_member_id,
            "title": self.title,
            "summary": self.summary,
            "sector": self.sector,
            "languages": self.languages,
            "needs": self.needs,
            "funding": self.funding,
            "source_idea_ids": self.source_idea_ids or None,  # left out of events when there are none
        }

    @property
    def goal(self) -> Decimal | None:
        return Decimal(self.funding["goal_amount"]) if self.funding else None

    def edited(self, edit: EditProject, taxonomy: Taxonomy, now: datetime) -> Project:
        """A draft changes freely; a published project keeps its territory and, once pledged to, its
        currency; a closed project does not change."""
        changes = edit.model_dump(mode="json", exclude_unset=True)
        if self.status == CLOSED:
            raise IllegalTransition("a closed project cannot be edited")
        if self.status == PUBLISHED and changes.get("territory_id", self.territory_id) != self.territory_id:
            raise IllegalTransition("a published project stays in its territory; close it and start another")
        if "needs" in changes:
            changes = {**changes, "needs": _needs_keeping_ids(self.needs, changes["needs"])}
        edited = replace(self, **changes)
        if self.pledged_total > 0:
            if edited.funding is None:
                raise IllegalTransition("pledges were made: the funding goal can change but not go away")
            if self.funding and edited.funding["currency"] != self.funding["currency"]:
                raise IllegalTransition(
                    f"pledges were made in {self.funding['currency']}: the currency stays"
                )
        return edited.checked(taxonomy).with_goal_checked(now)

    def publish(self) -> Project:
        if self.status != DRAFT:
            raise IllegalTransition(f"only a draft can be published; this project is {self.status}")
        missing = [name for name in ("title", "summary", "sector") if not getattr(self, name).strip()]
        if missing:
            raise RuleBroken(f"a project needs {', '.join(missing)} before it is published")
        if not self.needs and not self.funding:
            raise RuleBroken("a project needs at least one need or a funding goal before it is published")
        return replace(self, status=PUBLISHED)

    def close(self, outcome: str) -> Project:
        if self.status != PUBLISHED:
            raise IllegalTransition(f"only a published project can be closed; this project is {self.status}")
        return replace(self, status=CLOSED, outcome=outcome)

    def pledge(self, amount: Decimal, currency: str | None, now: datetime) -> Pledged:
        if self.status != PUBLISHED:
            raise IllegalTransition(f"pledges go to published projects; this project is {self.status}")
        if self.funding is None:
            raise IllegalTransition("this project has no funding goal: it does not ask for money")
        if currency is not None and currency != self.funding["currency"]:
            raise InvalidField(
                "currency", f"this project collects {self.funding['currency']}, not {currency}"
            )
        if amount <= 0 or amount != amount.quantize(CENT):
            raise InvalidField("amount", "a pledge is more than zero, in cents at most")
        if self.pledged_total + amount > MAX_TOTAL:
            raise InvalidField(
                "amount", f"this pledge would take the project's total beyond {MAX_TOTAL}, the most it holds"
            )
        pledged = replace(self, pledged_total=self.pledged_total + amount)
        reached = pledged.with_goal_checked(now)
        in_cents = amount.quantize(CENT)  # "250" and "250.00" are the same pledge, written one way
        return Pledged(reached, str(uuid.uuid4()), in_cents, reached.goal_reached_at != self.goal_reached_at)

    def with_goal_checked(self, now: datetime) -> Project:
        """The first time the pledges reach the goal is remembered, and only the first."""
        if self.goal_reached_at is None and self.goal is not None and self.pledged_total >= self.goal > 0:
            return replace(self, goal_reached_at=now)
        return self

    def checked(self, taxonomy: Taxonomy) -> Project:
        if self.sector not in taxonomy.sectors:
            known = ", ".join(sorted(taxonomy.sectors))
            raise InvalidField("sector", f"unknown sector {self.sector!r}; known: {known}")
        for index, need in enumerate(self.needs):
            if need["skill"] not in taxonomy:
                raise InvalidField(f"needs.{index}.skill", f"unknown skill code {need['skill']!r}")
            if need.get("starts_on") and need.get("ends_on") and need["ends_on"] < need["starts_on"]:
                raise InvalidField(f"needs.{index}.ends_on", "is before starts_on")
        return self


def create_project(owner_member_id: str, creation: CreateProject, taxonomy: Taxonomy) -> Project:
    fields = creation.model_dump(mode="json", exclude={"owner_member_id"})
    needs = _needs_keeping_ids([], fields.pop("needs"))
    project = Project(project_id=str(uuid.uuid4()), owner_member_id=owner_member_id, needs=needs, **fields)
    return project.checked(taxonomy)


def _needs_keeping_ids(current: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Needs sent back with their need_id keep it (matches refer to it); new ones get one."""
    known = {need["need_id"] for need in current}
    needs = []
    for index, need in enumerate(wanted):
        need_id = need.get("need_id")
        if need_id and need_id not in known:
            raise InvalidField(f"needs.{index}.need_id", f"this project has no need {need_id}")
        needs.append({**need, "need_id": need_id or str(uuid.uuid4())})
    return needs
