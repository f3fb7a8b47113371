"""Opportunities, their review and expiry, and the interests members express in them: plain rules,
no I/O. Passerelle lists, reviews and introduces; it never moves money nor offers securities."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from passerelle.errors import IllegalTransition, InvalidField, RuleBroken
from passerelle.taxonomy import Taxonomy

from .commands import CreateOpportunity, EditOpportunity, ExpressInterest

DRAFT, SUBMITTED, NEEDS_WORK, OPEN, CLOSED = "draft", "submitted", "needs_work", "open", "closed"
LIFETIME = timedelta(days=90)
REMINDER = timedelta(days=14)  # before expiry

PENDING, INTRODUCED, DECLINED, WITHDRAWN, EXPIRED = (
    "pending",
    "introduced",
    "declined",
    "withdrawn",
    "expired",
)

# The kind opportunities keeps of an erased member: the id stays, to refuse its late events and token.
ERASED_KIND = "erased"


@dataclass(frozen=True)
class MemberFacts:
    """What the service knows of a member: who may act for it, and its card (never a contact detail)."""

    member_id: str
    kind: str
    display_name: str = ""
    country_of_residence: str = ""
    languages: list[str] = field(default_factory=list)
    managers: list[str] = field(default_factory=list)

    @property
    def erased(self) -> bool:
        return self.kind == ERASED_KIND

    def may_act_for(self, sub: str) -> bool:
        if self.erased:
            return False
        return sub == self.member_id if self.kind == "person" else sub in self.managers


@dataclass(frozen=True)
class Opportunity:
    opportunity_id: str
    territory_id: str
    promoter_member_id: str
    kind: str
    sector: str
    title: str
    summary: str
    language: str
    stage: str
    created_at: datetime
    description: str = ""
    amount_min: str | None = None
    amount_max: str | None = None
    currency: str | None = None
    instruments: list[str] = field(default_factory=list)
    expected_jobs: int | None = None
    support_programmes: list[str] = field(default_factory=list)
    support_needs: list[dict[str, Any]] = field(default_factory=list)
    source_idea_ids: list[str] = field(default_factory=list)
    expires_on: date | None = None
    status: str = DRAFT
    outcome: str | None = None
    review_notes: str = ""
    reviewed_by: str | None = None
    submitted_at: datetime | None = None
    published_at: datetime | None = None
    reminded_for: date | None = None  # the expiry date whose reminder was sent

    @property
    def visible_to_members(self) -> bool:
        """Once approved, for good: until then only its promoter and reviewers know it exists."""
        return self.published_at is not None

    def snapshot(self) -> dict[str, Any]:
        """The fields of OpportunityPublished and OpportunityUpdated."""
        names = [
            "opportunity_id",
            "territory_id",
            "promoter_member_id",
            "kind",
            "sector",
            "title",
            "summary",
            "language",
            "amount_min",
            "amount_max",
            "currency",
            "instruments",
            "expected_jobs",
            "stage",
            "support_programmes",
            "support_needs",
            "source_idea_ids",
            "expires_on",
        ]
        return {name: getattr(self, name) for name in names}

    def edited(self, edit: EditOpportunity, checks: Checks) -> Opportunity:
        """Changes before closing; an open opportunity's changes are published (OpportunityUpdated)."""
        if self.status == CLOSED:
            raise IllegalTransition("a closed opportunity cannot be edited")
        changes = edit.model_dump(exclude_unset=True)
        if "support_needs" in changes:
            changes["support_needs"] = _needs_keeping_ids(self.support_needs, changes["support_needs"])
        return checks.checked(replace(self, **changes))

    def submit(self, now: datetime) -> Opportunity:
        if self.status not in (DRAFT, NEEDS_WORK):
            raise IllegalTransition(
                f"only a draft or one that needs work is submitted; this one is {self.status}"
            )
        return replace(self, status=SUBMITTED, submitted_at=now)

    def reviewed(self, decision: str, notes: str, reviewer: str, now: datetime) -> Opportunity:
        if self.status != SUBMITTED:
            raise IllegalTransition(f"only a submitted opportunity is reviewed; this one is {self.status}")
        reviewed = replace(self, review_notes=notes, reviewed_by=reviewer)
        if decision == "needs_work":
            return replace(reviewed, status=NEEDS_WORK)
        if decision == "rejected":
            return replace(reviewed, status=CLOSED, outcome="rejected")
        today = now.date()
        expires_on = self.expires_on if self.expires_on and self.expires_on > today else today + LIFETIME
        return replace(reviewed, status=OPEN, published_at=now, expires_on=expires_on)

    def renewed(self, today: date) -> Opportunity:
        if self.status != OPEN:
            raise IllegalTransition(f"only an open opportunity is renewed; this one is {self.status}")
        return replace(self, expires_on=today + LIFETIME)

    def closed(self, outcome: str) -> Opportunity:
        if self.status == CLOSED:
            raise IllegalTransition(f"this opportunity is already closed ({self.outcome})")
        if outcome == "concluded" and self.status != OPEN:
            raise IllegalTransition("only an open opportunity is concluded; withdraw the others")
        return replace(self, status=CLOSED, outcome=outcome)

    def reminder_due(self, today: date) -> bool:
        """Open, expiring within the reminder's notice, and not yet reminded of this expiry date."""
        return (
            self.status == OPEN
            and self.expires_on is not None
            and self.expires_on - REMINDER <= today
            and self.reminded_for != self.expires_on
        )

    def expired_by(self, today: date) -> bool:
        return self.status == OPEN and self.expires_on is not None and self.expires_on <= today


@dataclass(frozen=True)
class Checks:
    """What an opportunity's codes are checked against: the skills and sectors, and the programmes."""

    taxonomy: Taxonomy
    programmes: Collection[str]

    def checked(self, opportunity: Opportunity) -> Opportunity:
        if opportunity.sector not in self.taxonomy.sectors:
            known = ", ".join(sorted(self.taxonomy.sectors))
            raise InvalidField("sector", f"unknown sector {opportunity.sector!r}; known: {known}")
        for index, need in enumerate(opportunity.support_needs):
            if need["skill"] not in self.taxonomy:
                raise InvalidField(f"support_needs.{index}.skill", f"unknown skill code {need['skill']!r}")
        for index, code in enumerate(opportunity.support_programmes):
            if code not in self.programmes:
                raise InvalidField(
                    f"support_programmes.{index}", f"unknown programme {code!r}; see GET /support-programmes"
                )
        has_amount = opportunity.amount_min is not None or opportunity.amount_max is not None
        if has_amount and opportunity.currency is None:
            raise InvalidField("currency", "an amount is given in a currency (ISO 4217)")
        low, high = (_cents(opportunity.amount_min), _cents(opportunity.amount_max))
        if low is not None and high is not None and Decimal(high) < Decimal(low):
            raise InvalidField("amount_max", "is below amount_min")
        return replace(opportunity, amount_min=low, amount_max=high)


def _cents(amount: str | None) -> str | None:
    """One way of writing an amount ("250" and "250.00" are the same), as the columns keep it."""
    return None if amount is None else f"{Decimal(amount):.2f}"


def create(promoter_member_id: str, command: CreateOpportunity, checks: Checks, now: datetime) -> Opportunity:
    fields = command.model_dump(exclude={"promoter_member_id"})
    fields["support_needs"] = _needs_keeping_ids([], fields["support_needs"])
    if fields["expires_on"] is not None and fields["expires_on"] <= now.date():
        raise InvalidField("expires_on", "is not in the future")
    opportunity = Opportunity(
        opportunity_id=str(uuid.uuid4()), promoter_member_id=promoter_member_id, created_at=now, **fields
    )
    return checks.checked(opportunity)


@dataclass(frozen=True)
class Interest:
    interest_id: str
    opportunity_id: str
    member_id: str
    role: str
    created_at: datetime
    message: str = ""
    amount_min: str | None = None
    amount_max: str | None = None
    currency: str | None = None
    status: str = PENDING
    decline_reason: str | None = None  # the promoter's: never in an event nor a member's view
    decline_note: str = ""
    answered_at: datetime | None = None

    def answered(
        self, status: str, now: datetime, decline_reason: str | None = None, decline_note: str = ""
    ) -> Interest:
        if self.status != PENDING:
            raise IllegalTransition(f"this interest was already answered ({self.status})")
        return replace(
            self, status=status, answered_at=now, decline_reason=decline_reason, decline_note=decline_note
        )


def express_interest(
    opportunity: Opportunity, member_id: str, command: ExpressInterest, now: datetime
) -> Interest:
    if opportunity.status != OPEN:
        raise IllegalTransition(f"interest goes to open opportunities; this one is {opportunity.status}")
    if member_id == opportunity.promoter_member_id:
        raise RuleBroken("a promoter is not interested in their own opportunity")
    return Interest(
        interest_id=str(uuid.uuid4()),
        opportunity_id=opportunity.opportunity_id,
        member_id=member_id,
        created_at=now,
        **command.model_dump(),
    )


def _needs_keeping_ids(current: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Needs sent back with their need_id keep it (matches refer to it); new ones get one."""
    known = {need["need_id"] for need in current}
    needs = []
    for index, need in enumerate(wanted):
        need_id = need.get("need_id")
        if need_id and need_id not in known:
            raise InvalidField(f"support_needs.{index}.need_id", f"this opportunity has no need {need_id}")
        needs.append({**need, "need_id": need_id or str(uuid.uuid4())})
    return needs
