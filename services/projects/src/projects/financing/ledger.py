"""The public ledger of a project, computed from what is recorded: nothing here is stored twice."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from .domain import COLLECTED, LIVE, WITHDRAWN, CofundingOffer, FinancingPlan, Pledge

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class SourceTotals:
    planned: Decimal = ZERO
    committed: Decimal = ZERO
    received: Decimal = ZERO


@dataclass(frozen=True)
class LedgerEntry:
    amount: Decimal
    status: str
    name: str | None  # only where the pledger chose to be public
    campaign_id: str | None
    offline: bool
    collected_amount: Decimal | None


@dataclass(frozen=True)
class Ledger:
    currency: str | None
    budget_amount: Decimal | None
    pledged_total: Decimal
    collected_total: Decimal
    cofunded_total: Decimal
    by_source: dict[str, SourceTotals]
    entries: list[LedgerEntry]
    cofunding: list[tuple[CofundingOffer, Decimal]]


def ledger(
    currency: str | None,
    plan: FinancingPlan | None,
    pledges: list[Pledge],
    offers: list[CofundingOffer],
    cofunded: dict[str, Decimal],
) -> Ledger:
    """Pledged counts what still stands (pledged or collected), collected what the collector
    confirmed, co-funded what offers matched; by source, the plan's lines beside what happened."""
    pledged = sum((p.amount for p in pledges if p.status in LIVE), ZERO)
    collected = sum((p.collected_amount or ZERO for p in pledges if p.status == COLLECTED), ZERO)
    cofunded_total = sum(cofunded.values(), ZERO)
    planned: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])
    for line in plan.lines if plan else ():
        sums = planned[line.source]
        sums[0] += line.amount
        if line.status in ("committed", "received"):
            sums[1] += line.amount
        if line.status == "received":
            sums[2] += line.amount
    by_source = {source: SourceTotals(*sums) for source, sums in planned.items()}
    # What the platform itself records replaces the plan's statuses for these two sources.
    by_source["diaspora_campaign"] = SourceTotals(
        planned["diaspora_campaign"][0] if plan else ZERO, pledged, collected
    )
    committed = sum((o.cap_amount for o in offers if o.status != WITHDRAWN), ZERO)
    by_source["cofunding"] = SourceTotals(
        planned["cofunding"][0] if plan else ZERO, committed, cofunded_total
    )
    entries = [
        LedgerEntry(p.amount, p.status, p.public_name, p.campaign_id, p.offline, p.collected_amount)
        for p in pledges
    ]
    return Ledger(
        plan.currency if plan else currency,
        plan.budget_amount if plan else None,
        pledged,
        collected,
        cofunded_total,
        by_source,
        entries,
        [(offer, cofunded.get(offer.offer_id, ZERO)) for offer in offers],
    )
