"""Plans, ideas and who may take part: plain Python, no I/O, no framework."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from passerelle.contracts import ERASED_OWNER
from passerelle.errors import IllegalTransition, InvalidField

from .commands import AxisIn, CreatePlan, EditPlan, PhaseIn, PostIdea

PHASES = ("diagnosis", "ideas", "prioritisation", "adoption", "monitoring")
SUPPORT_PHASES = ("ideas", "prioritisation")
BONDS = ("origin", "family", "heart")  # strongest first: a member's bond to a place is their strongest
DRAFT, PUBLISHED, ADOPTED, ARCHIVED = "draft", "published", "adopted", "archived"
# Ideas a manager's answer or a project may move on; a withdrawn or promoted idea is settled.
OPEN_STATUSES = ("published", "evaluating", "accepted", "rejected")
ERASED = ERASED_OWNER  # the author of what an erased member wrote: nobody's identity


@dataclass(frozen=True)
class Territory:
    territory_id: str
    name: str
    country: str
    parent_id: str | None = None


@dataclass(frozen=True)
class MemberFacts:
    """What ideas knows of a member: who acts for it, where it lives, and its bonds to places."""

    member_id: str
    kind: str
    managers: list[str]
    country_of_residence: str
    attachments: list[dict[str, str]]  # {territory_id, bond}
    erased: bool = False

    def may_act_for(self, sub: str) -> bool:
        if self.erased:
            return False
        return sub == self.member_id if self.kind == "person" else sub in self.managers

    def bond_within(self, places: set[str]) -> str | None:
        """The strongest bond the member has to one of these places, None when they have none."""
        bonds = {
            attachment["bond"] for attachment in self.attachments if attachment["territory_id"] in places
        }
        return next((bond for bond in BONDS if bond in bonds), None)


@dataclass(frozen=True)
class Plan:
    plan_id: str
    territory_id: str
    title: str
    period_from: date
    period_to: date
    axes: list[dict[str, Any]]  # {axis_id, title, sectors}
    phases: list[dict[str, Any]]  # {phase, starts_on, ends_on} as ISO dates, in order
    status: str = DRAFT
    announced_phase: str | None = None  # the last phase told in a PlanPhaseStarted

    def snapshot(self) -> dict[str, Any]:
        """The fields of PlanPublished and PlanUpdated."""
        return {
            "plan_id": self.plan_id,
            "territory_id": self.territory_id,
            "title": self.title,
            "period_from": self.period_from,
            "period_to": self.period_to,
            "axes": self.axes,
            "phases": self.phases,
            "status": self.status,
        }

    def phase_on(self, day: date) -> dict[str, Any] | None:
        return next(
            (
                p
                for p in self.phases
                if date.fromisoformat(p["starts_on"]) <= day <= date.fromisoformat(p["ends_on"])
            ),
            None,
        )

    def phase_named(self, name: str) -> dict[str, Any]:
        return next(p for p in self.phases if p["phase"] == name)

    def axis(self, axis_id: str) -> dict[str, Any] | None:
        return next((axis for axis in self.axes if axis["axis_id"] == axis_id), None)

    def edited(self, edit: EditPlan) -> Plan:
        """A draft or a published plan changes (a published one tells it); an adopted or archived
        plan is the record of what was decided and stays as it is."""
        if self.status not in (DRAFT, PUBLISHED):
            raise IllegalTransition(f"an {self.status} plan does not change")
        changes: dict[str, Any] = {
            name: getattr(edit, name)
            for name in ("title", "period_from", "period_to")
            if name in edit.model_fields_set
        }
        if "axes" in edit.model_fields_set:
            changes["axes"] = _axes_keeping_ids(self.axes, edit.axes)
        if "phases" in edit.model_fields_set:
            changes["phases"] = _chained(edit.phases)
        return replace(self, **changes).checked()

    def publish(self) -> Plan:
        if self.status != DRAFT:
            raise IllegalTransition(f"only a draft plan is published; this one is {self.status}")
        return replace(self, status=PUBLISHED)

    def adopt(self) -> Plan:
        if self.status != PUBLISHED:
            raise IllegalTransition(f"only a published plan is adopted; this one is {self.status}")
        return replace(self, status=ADOPTED)

    def archive(self) -> Plan:
        if self.status not in (PUBLISHED, ADOPTED):
            raise IllegalTransition(
                f"only a published or adopted plan is archived; this one is {self.status}"
            )
        return replace(self, status=ARCHIVED)

    def phase_to_announce(self, today: date) -> dict[str, Any] | None:
        """The phase a published or adopted plan entered and has not told yet."""
        current = self.phase_on(today) if self.status in (PUBLISHED, ADOPTED) else None
        if current is None or current["phase"] == self.announced_phase:
            return None
        return current

    def check_open_for(self, what: str, phases: tuple[str, ...], today: date) -> None:
        """Ideas come during the `ideas` phase, support during `ideas` and `prioritisation`."""
        current = self.phase_on(today)
        if self.status == PUBLISHED and current is not None and current["phase"] in phases:
            return
        windows = "; ".join(
            f"{p['phase']} from {p['starts_on']} to {p['ends_on']}"
            for p in self.phases
            if p["phase"] in phases
        )
        now = f"it is in its {current['phase']} phase" if current else "it is in none of its phases"
        if self.status != PUBLISHED:
            now = f"it is {self.status}"
        raise IllegalTransition(f"{what} this plan only during {windows}; {now} ({today.isoformat()})")

    def checked(self) -> Plan:
        if self.period_to < self.period_from:
            raise InvalidField("period_to", "is before period_from")
        return self


def create_plan(command: CreatePlan) -> Plan:
    return Plan(
        plan_id=str(uuid.uuid4()),
        territory_id=command.territory_id,
        title=command.title,
        period_from=command.period_from,
        period_to=command.period_to,
        axes=_axes_keeping_ids([], command.axes),
        phases=_chained(command.phases),
    ).checked()


def _chained(phases: list[PhaseIn]) -> list[dict[str, Any]]:
    """The five phases in their order, each ending on or after it starts, the next starting the day
    after: a plan is always in exactly one phase between its first day and its last."""
    if tuple(p.phase for p in phases) != PHASES:
        raise InvalidField("phases", f"the phases are {', '.join(PHASES)}, in that order")
    for index, phase in enumerate(phases):
        if phase.ends_on < phase.starts_on:
            raise InvalidField(f"phases.{index}.ends_on", "is before starts_on")
        if index and phase.starts_on != phases[index - 1].ends_on + timedelta(days=1):
            raise InvalidField(
                f"phases.{index}.starts_on",
                f"the {phase.phase} phase starts the day after {phases[index - 1].phase} ends",
            )
    return [phase.model_dump(mode="json") for phase in phases]


def _axes_keeping_ids(current: list[dict[str, Any]], wanted: list[AxisIn]) -> list[dict[str, Any]]:
    """Axes sent back with their axis_id keep it (ideas refer to it); new ones get one."""
    known = {axis["axis_id"] for axis in current}
    axes = []
    for index, axis in enumerate(wanted):
        if axis.axis_id and axis.axis_id not in known:
            raise InvalidField(f"axes.{index}.axis_id", f"this plan has no axis {axis.axis_id}")
        axes.append({**axis.model_dump(), "axis_id": axis.axis_id or str(uuid.uuid4())})
    if len({axis["axis_id"] for axis in axes}) != len(axes):
        raise InvalidField("axes", "an axis is given twice")
    return axes


@dataclass(frozen=True)
class Idea:
    idea_id: str
    territory_id: str
    author_member_id: str
    kind: str
    title: str
    body: str
    language: str
    created_at: datetime
    plan_id: str | None = None
    axis_id: str | None = None
    sector: str | None = None
    status: str = "published"
    answer: str | None = None
    answered_at: datetime | None = None
    hidden: bool = False
    links: list[dict[str, str]] = field(default_factory=list)  # {kind: project|gathering|opportunity, id}

    def answered(self, status: str, answer: str, now: datetime) -> Idea:
        if self.status not in OPEN_STATUSES:
            raise IllegalTransition(f"this idea is {self.status}: it is not answered any more")
        return replace(self, status=status, answer=answer, answered_at=now)

    def withdrawn(self) -> Idea:
        if self.status not in ("published", "evaluating"):
            raise IllegalTransition(f"this idea is {self.status}: its author no longer withdraws it")
        return replace(self, status="withdrawn")

    def linked(self, kind: str, target_id: str) -> Idea:
        """What the idea led to; linked again, nothing changes."""
        link = {"kind": kind, "id": target_id}
        return self if link in self.links else replace(self, links=[*self.links, link])

    def promoted(self, project_id: str) -> Idea:
        """Linked to the project; promoted unless it was withdrawn. Named again, nothing changes."""
        linked = self.linked("project", project_id)
        if linked == self:
            return self
        return linked if self.status == "withdrawn" else replace(linked, status="promoted")

    def takes_support(self) -> None:
        if self.status not in OPEN_STATUSES and self.status != "promoted":
            raise IllegalTransition(f"this idea is {self.status}: it takes no support")


def post_idea(
    command: PostIdea, author: str, plan: Plan | None, sectors: frozenset[str], now: datetime
) -> Idea:
    """A new idea; one for a plan fits one of its axes, and the axis's sectors when it names some."""
    if command.sector is not None and command.sector not in sectors:
        raise InvalidField(
            "sector", f"unknown sector {command.sector!r}; known: {', '.join(sorted(sectors))}"
        )
    if command.axis_id is not None:
        axis = plan.axis(command.axis_id) if plan else None
        if axis is None:
            raise InvalidField("axis_id", "names no axis of the idea's plan")
        if axis["sectors"] and command.sector is not None and command.sector not in axis["sectors"]:
            raise InvalidField("sector", f"the axis {axis['title']!r} covers {', '.join(axis['sectors'])}")
    fields = command.model_dump(exclude={"idea_id", "author_member_id"})
    return Idea(
        idea_id=command.idea_id or str(uuid.uuid4()), author_member_id=author, created_at=now, **fields
    )


@dataclass(frozen=True)
class Breakdown:
    """An idea's support: how many in all, by bond to the place, and by residence."""

    total: int = 0
    by_bond: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BONDS, 0))
    by_residence: dict[str, int] = field(default_factory=lambda: {"in_country": 0, "abroad": 0})

    @classmethod
    def of(cls, counts: list[tuple[str, bool, int]]) -> Breakdown:
        """From (bond, lives in the territory's country, how many) rows."""
        breakdown = cls()
        for bond, in_country, count in counts:
            breakdown.by_bond[bond] += count
            breakdown.by_residence["in_country" if in_country else "abroad"] += count
        return replace(breakdown, total=sum(count for _, _, count in counts))
