"""Participatory financing, plain rules: plans checked against programmes, campaigns and their
outcome, pledges' lives, co-funding and the ledger. Passerelle never moves money: it records
commitments, collections a named collector confirms, and co-funding."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from passerelle.errors import Forbidden, IllegalTransition, InvalidField, RuleBroken

from ..domain import CENT, MAX_TOTAL
from . import references

# How far ahead a campaign may close: beyond, dates (and their collection windows) stop making sense.
LONGEST_CAMPAIGN = timedelta(days=3 * 365)
OPEN, SUCCEEDED, FAILED, CANCELLED = "open", "succeeded", "failed", "cancelled"
ALL_OR_NOTHING, KEEP_IT_ALL = "all_or_nothing", "keep_it_all"
PLEDGED, COLLECTED, RELEASED, LAPSED = "pledged", "collected", "released", "lapsed"
# The pledges that count in the totals: promised, or paid.
LIVE = (PLEDGED, COLLECTED)
ACTIVE, EXHAUSTED, WITHDRAWN = "active", "exhausted", "withdrawn"


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT)


def when(moment: datetime) -> str:
    """A time as the problems say it: to the minute, UTC."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# Plans and programmes


@dataclass(frozen=True)
class Programme:
    code: str
    name: str
    country: str
    currency: str
    sources: tuple[str, ...]  # the plan lines it may fund
    max_share_of_budget: Decimal | None
    max_amount: Decimal | None
    max_budget: Decimal | None
    url: str | None = None


@dataclass(frozen=True)
class PlanLine:
    source: str
    label: str
    amount: Decimal
    status: str
    programme_code: str | None = None


@dataclass(frozen=True)
class Collector:
    kind: str
    name: str
    payment_instructions: str
    confirmer_subs: tuple[str, ...]


@dataclass(frozen=True)
class FinancingPlan:
    project_id: str
    budget_amount: Decimal
    currency: str
    lines: tuple[PlanLine, ...]
    collector: Collector

    def may_confirm(self, sub: str) -> bool:
        return sub in self.collector.confirmer_subs

    def checked(self, programmes: dict[str, Programme], project_currency: str | None) -> FinancingPlan:
        """Each line in the budget's currency, and each programme's rules kept by what it funds."""
        if project_currency is not None and self.currency != project_currency:
            raise InvalidField("currency", f"the project collects {project_currency}, not {self.currency}")
        funded: dict[str, Decimal] = defaultdict(Decimal)
        for index, line in enumerate(self.lines):
            if line.programme_code is None:
                continue
            programme = programmes.get(line.programme_code)
            if programme is None:
                known = ", ".join(sorted(programmes))
                raise InvalidField(
                    f"lines.{index}.programme_code",
                    f"unknown programme {line.programme_code!r}; known: {known}",
                )
            if line.source not in programme.sources:
                raise InvalidField(
                    f"lines.{index}.source",
                    f"programme {programme.code} funds {', '.join(programme.sources)} lines, "
                    f"not {line.source}",
                )
            funded[programme.code] += line.amount
        for code, amount in funded.items():
            _keep_rules(programmes[code], amount, self.budget_amount, self.currency)
        return self


def _keep_rules(programme: Programme, amount: Decimal, budget: Decimal, currency: str) -> None:
    def broken(rule: str, why: str) -> RuleBroken:
        return RuleBroken(f"rule {rule} of programme {programme.code} ({programme.name}): {why}")

    if currency != programme.currency:
        raise broken("currency", f"it funds budgets in {programme.currency}, not {currency}")
    if programme.max_budget is not None and budget > programme.max_budget:
        raise broken("max_budget", f"the budget is at most {programme.max_budget} {currency}, not {budget}")
    if programme.max_amount is not None and amount > programme.max_amount:
        raise broken("max_amount", f"it grants at most {programme.max_amount} {currency}, not {amount}")
    share = programme.max_share_of_budget
    if share is not None and amount > budget * share:
        percent = (share * 100).normalize()
        raise broken(
            "max_share_of_budget",
            f"it grants at most {percent} % of the budget, {cents(budget * share)} {currency}, not {amount}",
        )


# Campaigns


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    project_id: str
    goal_amount: Decimal
    minimum_amount: Decimal | None
    currency: str
    rule: str
    opens_at: datetime
    closes_at: datetime
    collection_days: int
    status: str = OPEN
    pledged_total: Decimal = Decimal("0.00")
    collected_total: Decimal = Decimal("0.00")
    closed_at: datetime | None = None

    @property
    def threshold(self) -> Decimal:
        """What an all-or-nothing campaign needs pledged: its minimum, or else its goal."""
        return self.minimum_amount if self.minimum_amount is not None else self.goal_amount

    @property
    def collection_ends_at(self) -> datetime:
        return self.closes_at + timedelta(days=self.collection_days)

    def accepting(self, now: datetime) -> None:
        """Pledges go to an open campaign between its opening and its closing time."""
        if self.status != OPEN or now >= self.closes_at:
            raise IllegalTransition(
                f"this campaign closed on {when(self.closes_at)}: it takes no more pledges"
            )
        if now < self.opens_at:
            raise IllegalTransition(f"this campaign opens on {when(self.opens_at)}")

    def pledged(self, amount: Decimal) -> Campaign:
        return replace(self, pledged_total=self.pledged_total + amount)

    def closed(self, now: datetime) -> Campaign:
        """All or nothing succeeds at its threshold; keep it all with anything pledged."""
        if self.status != OPEN:
            raise IllegalTransition(f"this campaign is already {self.status}")
        met = self.pledged_total >= self.threshold if self.rule == ALL_OR_NOTHING else self.pledged_total > 0
        return replace(self, status=SUCCEEDED if met else FAILED, closed_at=now)

    def cancelled(self, now: datetime) -> Campaign:
        if self.status != OPEN:
            raise IllegalTransition(f"only an open campaign is cancelled; this one {self.status}")
        return replace(self, status=CANCELLED, closed_at=now)

    def extended(self, closes_at: datetime, now: datetime) -> Campaign:
        """Later, never earlier; a closed campaign reopens only while nothing of it was collected."""
        if self.status == CANCELLED:
            raise IllegalTransition("a cancelled campaign is not extended; open another one")
        if closes_at <= max(self.closes_at, now):
            raise InvalidField("closes_at", f"an extension closes after {when(max(self.closes_at, now))}")
        if closes_at > now + LONGEST_CAMPAIGN:
            raise InvalidField("closes_at", f"a campaign closes before {when(now + LONGEST_CAMPAIGN)}")
        if self.status != OPEN and self.collected_total > 0:
            raise IllegalTransition(
                f"{self.collected_total} {self.currency} of this campaign was collected: it stays closed"
            )
        return replace(self, status=OPEN, closes_at=closes_at, closed_at=None)


def open_campaign(
    project_id: str,
    goal: Decimal,
    minimum: Decimal | None,
    currency: str,
    rule: str,
    opens_at: datetime,
    closes_at: datetime,
    collection_days: int,
    project_currency: str | None,
) -> Campaign:
    if project_currency is None:
        raise IllegalTransition("this project has no funding goal: give it one before a campaign")
    if currency != project_currency:
        raise InvalidField("currency", f"the project collects {project_currency}, not {currency}")
    if minimum is not None and minimum > goal:
        raise InvalidField("minimum_amount", f"is at most the goal, {goal}")
    if closes_at <= opens_at:
        raise InvalidField("closes_at", f"is after the opening, {when(opens_at)}")
    return Campaign(
        str(uuid.uuid4()), project_id, goal, minimum, currency, rule, opens_at, closes_at, collection_days
    )


# Pledges


@dataclass(frozen=True)
class Pledge:
    pledge_id: str
    project_id: str
    member_id: str | None
    amount: Decimal
    currency: str
    pledged_at: datetime
    campaign_id: str | None = None
    reference: str | None = None
    on_behalf_of_member_id: str | None = None
    public_name: str | None = None
    status: str = PLEDGED
    offline: bool = False
    collected_amount: Decimal | None = None
    collected_at: datetime | None = None
    method: str | None = None
    collected_by: str | None = None
    reminders_sent: int = 0

    def cancelled(self, campaign: Campaign | None, now: datetime) -> Pledge:
        if self.status != PLEDGED:
            raise IllegalTransition(f"this pledge is {self.status}: it can no longer be cancelled")
        if campaign is not None and (campaign.status != OPEN or now >= campaign.closes_at):
            raise IllegalTransition(f"its campaign closed on {when(campaign.closes_at)}: the pledge stands")
        return replace(self, status="cancelled")

    def collected(self, amount: Decimal | None, method: str, at: datetime, by: str) -> Pledge:
        return replace(
            self,
            status=COLLECTED,
            collected_amount=cents(amount) if amount is not None else self.amount,
            method=method,
            collected_at=at,
            collected_by=by,
        )


def pledge_amount(amount: Decimal, total: Decimal) -> Decimal:
    if amount <= 0 or amount != amount.quantize(CENT):
        raise InvalidField("amount", "a pledge is more than zero, in cents at most")
    if total + amount > MAX_TOTAL:
        raise InvalidField(
            "amount", f"this pledge would take the total beyond {MAX_TOTAL}, the most it holds"
        )
    return cents(amount)


@dataclass(frozen=True)
class CollectionItem:
    reference: str
    amount: Decimal | None
    method: str
    collected_at: datetime


def collect_all(
    found: dict[str, Pledge], items: list[CollectionItem], by: str
) -> list[tuple[Pledge, CollectionItem]]:
    """All or nothing: every reference names a pledge still to be paid, once, or the batch is
    refused with the list of those that do not (found: the project's pledges by reference)."""
    problems: list[str] = []
    seen: set[str] = set()
    for item in items:
        pledge = found.get(item.reference)
        if item.reference in seen:
            problems.append(f"{item.reference} (twice in this batch)")
        elif pledge is None and not references.is_valid(item.reference):
            problems.append(f"{item.reference} (mistyped: its check character does not match)")
        elif pledge is None:
            problems.append(f"{item.reference} (unknown)")
        elif pledge.status == COLLECTED:
            problems.append(f"{item.reference} (already collected)")
        elif pledge.status != PLEDGED:
            problems.append(f"{item.reference} ({pledge.status})")
        seen.add(item.reference)
    if problems:
        raise InvalidField(
            "items", f"nothing was recorded; these references cannot be collected: {', '.join(problems)}"
        )
    return [
        (found[item.reference].collected(item.amount, item.method, item.collected_at, by), item)
        for item in items
    ]


# Co-funding


@dataclass(frozen=True)
class Conditions:
    """When an offer matches a collection: who gave (their bond to the territory), and when."""

    bonds: tuple[str, ...] = ()  # empty: any giver, bonded or not
    starts_on: date | None = None
    ends_on: date | None = None
    territory_ids: tuple[str, ...] = ()  # the territories the offer reserves itself for


@dataclass(frozen=True)
class CofundingOffer:
    offer_id: str
    project_id: str
    sponsor_member_id: str
    ratio: Decimal
    cap_amount: Decimal
    currency: str
    conditions: Conditions = field(default_factory=Conditions)
    used_amount: Decimal = Decimal("0.00")
    status: str = ACTIVE

    @property
    def remaining(self) -> Decimal:
        return self.cap_amount - self.used_amount

    def match(self, collected: Decimal, bonds: set[str], on: date) -> Decimal:
        """min(ratio x collected, what remains of the cap), when the conditions hold; 0 otherwise."""
        wanted = self.conditions
        if self.status != ACTIVE or (wanted.bonds and not bonds.intersection(wanted.bonds)):
            return Decimal("0.00")
        if (wanted.starts_on and on < wanted.starts_on) or (wanted.ends_on and on > wanted.ends_on):
            return Decimal("0.00")
        return min((self.ratio * collected).quantize(CENT, rounding=ROUND_DOWN), self.remaining)

    def applied(self, amount: Decimal) -> CofundingOffer:
        used = self.used_amount + amount
        return replace(self, used_amount=used, status=EXHAUSTED if used >= self.cap_amount else ACTIVE)

    def withdrawn(self) -> CofundingOffer:
        if self.status == WITHDRAWN:
            raise IllegalTransition("this offer was already withdrawn")
        return replace(self, status=WITHDRAWN)


def offer_cofunding(
    project_id: str,
    project_currency: str | None,
    lineage: list[str],
    sponsor_member_id: str,
    ratio: Decimal,
    cap: Decimal,
    currency: str,
    conditions: Conditions,
) -> CofundingOffer:
    if project_currency is not None and currency != project_currency:
        raise InvalidField("currency", f"the project collects {project_currency}, not {currency}")
    if conditions.territory_ids and not set(conditions.territory_ids).intersection(lineage):
        raise RuleBroken("this offer is reserved for other territories than the project's")
    if conditions.starts_on and conditions.ends_on and conditions.ends_on < conditions.starts_on:
        raise InvalidField("conditions.ends_on", "is before starts_on")
    return CofundingOffer(str(uuid.uuid4()), project_id, sponsor_member_id, ratio, cap, currency, conditions)


def may_confirm(plan: FinancingPlan | None, sub: str) -> FinancingPlan:
    if plan is None or not plan.may_confirm(sub):
        raise Forbidden("only the collector's confirmers, named in the financing plan, record collections")
    return plan
