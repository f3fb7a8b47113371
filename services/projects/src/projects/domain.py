"""Territories and projects: plain rules, no I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

DRAFT, PUBLISHED, CLOSED = "draft", "published", "closed"


class DomainError(Exception):
    """A rule was broken by the input (422)."""


class IllegalTransition(Exception):
    """The project is not in a state that allows this (409)."""


@dataclass(frozen=True)
class Territory:
    territory_id: str
    name: str
    country: str
    level: str
    parent_id: str | None = None


def register_territory(fields: dict[str, Any], parent: Territory | None) -> Territory:
    territory = Territory(territory_id=str(uuid.uuid4()), **fields)
    order = ["commune", "province", "region", "country"]
    if parent is not None and order.index(parent.level) <= order.index(territory.level):
        raise DomainError(f"a {territory.level} cannot sit under a {parent.level}")
    if parent is not None and parent.country != territory.country:
        raise DomainError("a territory is in the same country as its parent")
    return territory


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
    status: str = DRAFT
    outcome: str | None = None

    def snapshot(self) -> dict[str, Any]:
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
        }

    def publish(self) -> Project:
        if self.status != DRAFT:
            raise IllegalTransition(f"only a draft can be published; this project is {self.status}")
        missing = [name for name in ("title", "summary", "sector") if not getattr(self, name).strip()]
        if missing:
            raise DomainError(f"a project needs {', '.join(missing)} before it is published")
        if not self.needs and not self.funding:
            raise DomainError("a project needs at least one need or a funding goal before it is published")
        return replace(self, status=PUBLISHED)


def create_project(owner_member_id: str, fields: dict[str, Any]) -> Project:
    needs = [
        {**need, "need_id": need.get("need_id") or str(uuid.uuid4())} for need in fields.pop("needs", [])
    ]
    for need in needs:
        if need.get("starts_on") and need.get("ends_on") and need["ends_on"] < need["starts_on"]:
            raise DomainError(f"need {need['skill']}: ends_on is before starts_on")
    return Project(project_id=str(uuid.uuid4()), owner_member_id=owner_member_id, needs=needs, **fields)


@dataclass(frozen=True)
class MemberFacts:
    """What projects knows of a member: who may act for them."""

    member_id: str
    kind: str
    managers: list[str]

    def may_act_for(self, sub: str) -> bool:
        return sub == self.member_id if self.kind == "person" else sub in self.managers
