"""Territories nest properly; a project is published only when complete, and only once."""

import pytest
from projects.domain import DomainError, IllegalTransition, Territory, create_project, register_territory

REGION = Territory("r", "Souss-Massa", "MA", "region")


def test_a_commune_sits_under_a_region_of_the_same_country() -> None:
    commune = register_territory(
        {"name": "Tafraout", "country": "MA", "level": "commune", "parent_id": "r"}, REGION
    )
    assert commune.parent_id == "r"
    with pytest.raises(DomainError, match="cannot sit under"):
        register_territory({"name": "Morocco", "country": "MA", "level": "country", "parent_id": "r"}, REGION)
    with pytest.raises(DomainError, match="same country"):
        register_territory({"name": "Kayes", "country": "ML", "level": "commune", "parent_id": "r"}, REGION)


def project(**changes):
    fields = {
        "territory_id": "t",
        "title": "Health post",
        "summary": "Train nurses",
        "sector": "health",
        "needs": [{"skill": "health.nurse_training", "min_level": 3, "mode": "short_mission", "count": 1}],
        **changes,
    }
    return create_project("amina", fields)


def test_a_complete_draft_is_published_once() -> None:
    published = project().publish()
    assert published.status == "published"
    assert all(need["need_id"] for need in published.needs)
    with pytest.raises(IllegalTransition):
        published.publish()


def test_a_project_without_needs_or_funding_cannot_be_published() -> None:
    with pytest.raises(DomainError, match="at least one need or a funding goal"):
        project(needs=[]).publish()
    assert (
        project(needs=[], funding={"goal_amount": "12000.00", "currency": "EUR"}).publish().status
        == "published"
    )
