"""An open opportunity's support needs (business planning, mentoring...) are matched like a project's
needs: matching reads the opportunity's snapshot as a project's (the opportunity's id, its promoter as
owner, its language), so that advisers and mentors are proposed with reasons by the same index and
the same life of matches, and matching's contract for projects does not change."""

from __future__ import annotations

from passerelle.contracts import (
    CloudEvent,
    OpportunityClosed,
    OpportunityPublished,
    OpportunitySnapshot,
    OpportunityUpdated,
    ProjectUpdated,
)
from passerelle.messaging.consumers import EventConsumers
from passerelle.messaging.unit_of_work import SqlUnitOfWork

from .handlers import MatchingHandlers
from .repository import MatchingRepository

OPPORTUNITY_EVENTS = (OpportunityPublished, OpportunityUpdated, OpportunityClosed)
Unit = SqlUnitOfWork[MatchingRepository]


def as_project(opportunity: OpportunitySnapshot) -> ProjectUpdated:
    return ProjectUpdated(
        project_id=opportunity.opportunity_id,
        territory_id=opportunity.territory_id,
        owner_member_id=opportunity.promoter_member_id,
        title=opportunity.title,
        summary=opportunity.summary,
        sector=opportunity.sector,
        languages=[opportunity.language],
        needs=opportunity.support_needs,
    )


def register_opportunity_needs(consumers: EventConsumers, handlers: MatchingHandlers) -> None:
    @consumers.on(OpportunityPublished)
    async def on_opportunity_published(event: CloudEvent[OpportunityPublished], uow: Unit) -> None:
        """Match an open opportunity's support needs against the offers."""
        await handlers.remember_project(as_project(event.data), event.time, uow)

    @consumers.on(OpportunityUpdated)
    async def on_opportunity_updated(event: CloudEvent[OpportunityUpdated], uow: Unit) -> None:
        """Follow its support needs: new ones are matched, removed ones withdrawn."""
        await handlers.remember_project(as_project(event.data), event.time, uow)

    @consumers.on(OpportunityClosed)
    async def on_opportunity_closed(event: CloudEvent[OpportunityClosed], uow: Unit) -> None:
        """Close its support needs and withdraw their matches."""
        await handlers.close_project(event.data.opportunity_id, uow)
