"""The use cases in milliseconds: the handlers on an in-memory repository and unit of work."""

from __future__ import annotations

from typing import Any, cast

import pytest
from notifications.commands import SetPreferences
from notifications.handlers import NotificationsHandlers
from notifications.preferences import Preferences
from notifications.repository import NotificationsRepository
from notifications.webhooks import allowed_networks
from passerelle.contracts import (
    CloudEvent,
    EventData,
    FundingGoalReached,
    MatchProposed,
    MemberRegistered,
    NotificationDelivered,
    NotificationFailed,
    PledgeMade,
    ProjectPublished,
    TerritoryRegistered,
    envelope,
)
from passerelle.errors import Forbidden, InvalidField, NotFound, NotYetKnown
from passerelle.identity import Identity
from passerelle.taxonomy import load_taxonomy
from passerelle.unit_of_work import InMemoryUnitOfWork
from sqlalchemy.exc import DataError, DBAPIError

from .fakes import InMemoryNotificationsRepository

TAXONOMY = load_taxonomy()


class Service:
    """The handlers on one in-memory repository; `consume` runs an event as its consumer would."""

    def __init__(self) -> None:
        self.repository = InMemoryNotificationsRepository()
        self.uow = InMemoryUnitOfWork(cast(NotificationsRepository, self.repository))
        self.woken = 0
        self.forgotten: list[str] = []
        self.handlers = NotificationsHandlers(
            lambda: self.uow,
            TAXONOMY,
            allowed_networks([]),
            on_queued=self.wake,
            forget_emails=self.forgotten.extend,
        )

    def wake(self) -> None:
        self.woken += 1

    async def consume(self, handler: Any, data: EventData, *args: Any) -> CloudEvent[Any]:
        event = envelope(data)
        async with self.uow as uow:
            await handler(event, uow, *args)
            await uow.commit()
        return event

    def published(self, kind: type[EventData]) -> list[Any]:
        return [event for event in self.uow.published if isinstance(event, kind)]

    def told(self, member_id: str, channel: str = "inbox") -> list[Any]:
        rows = self.repository.notifications.values()
        return [row for row in rows if row.member_id == member_id and row.channel == channel]


def member(member_id: str, name: str, locale: str = "fr") -> MemberRegistered:
    return MemberRegistered(
        member_id=member_id,
        kind="person",
        display_name=name,
        email=f"{member_id}@example.org",
        locale=locale,
        country_of_residence="BE",
        time_zone="Europe/Brussels",
        languages=["fr"],
        attachments=[{"territory_id": "tafraout", "bond": "origin"}],
    )


PROJECT = ProjectPublished(
    project_id="p-health",
    territory_id="tafraout",
    owner_member_id="amina",
    title="Solar health post",
    summary="Power the health post of Tafraout with solar panels.",
    sector="energy",
    languages=["fr"],
    needs=[
        {
            "need_id": "n-solar",
            "skill": "energy.solar_pv_design",
            "min_level": 3,
            "mode": "remote",
            "count": 1,
        }
    ],
    funding={"goal_amount": "1000.00", "currency": "EUR"},
)


def pledge(pledge_id: str, member_id: str, amount: str) -> PledgeMade:
    return PledgeMade(
        pledge_id=pledge_id, project_id="p-health", member_id=member_id, amount=amount, currency="EUR"
    )


async def places(service: Service) -> None:
    territory = TerritoryRegistered(territory_id="tafraout", name="Tafraout", country="MA", level="commune")
    async with service.uow as uow:
        await service.handlers.remember_territory(territory, uow)
        await uow.commit()
    await service.consume(service.handlers.remember_project, PROJECT)


async def test_a_new_member_is_welcomed_in_the_inbox_and_by_email_in_their_language() -> None:
    service = Service()
    event = await service.consume(service.handlers.welcome, member("fatima", "Fatima"))

    [inbox] = service.told("fatima")
    assert inbox.language == "fr" and "Fatima" in inbox.title
    [delivered] = service.published(NotificationDelivered)
    assert delivered.member_id == "fatima" and delivered.cause_event_id == event.id
    [email] = service.told("fatima", "email")
    assert email.status == "pending" and email.message_id in service.repository.messages
    assert service.woken == 1  # the dispatcher hears of the e-mail once it is committed


async def test_a_proposal_names_the_project_the_skill_and_why_and_waits_for_an_unknown_project() -> None:
    service = Service()
    await service.consume(service.handlers.welcome, member("fatima", "Fatima"))
    proposal = MatchProposed(
        match_id="m-1",
        project_id="p-health",
        need_id="n-solar",
        offer_id="o-1",
        member_id="fatima",
        score=0.9,
        reasons=["skill_exact"],
    )
    with pytest.raises(NotYetKnown):
        await service.consume(service.handlers.propose, proposal)

    await places(service)
    await service.consume(service.handlers.propose, proposal)
    [told] = [row for row in service.told("fatima") if row.kind == "match_proposed"]
    assert "Tafraout" in told.title and "Solar health post" in told.body
    assert "photovoltaïques" in told.body and "exactement la compétence" in told.body
    assert told.data == {"match_id": "m-1", "project_id": "p-health", "need_id": "n-solar"}


async def test_the_goal_reaches_the_owner_and_known_pledgers_and_a_late_one_when_their_profile_comes() -> (
    None
):
    service = Service()
    for known in (member("amina", "Amina", "en"), member("leila", "Leila")):
        await service.consume(service.handlers.welcome, known)
    await places(service)
    await service.consume(service.handlers.tell_owner_of_pledge, pledge("pl-1", "leila", "400.00"))
    await service.consume(service.handlers.tell_owner_of_pledge, pledge("pl-2", "sara", "600.00"))
    goal = FundingGoalReached(project_id="p-health", total="1000.00", currency="EUR")
    await service.consume(service.handlers.celebrate_goal, goal)

    for told in ("amina", "leila"):
        assert [row.kind for row in service.told(told)].count("funding_goal_reached") == 1
    assert service.told("sara") == [] and list(service.repository.waiting) != []
    await service.consume(service.handlers.welcome, member("sara", "Sara"))
    [late] = [row for row in service.told("sara") if row.kind == "funding_goal_reached"]
    assert late.title == "Solar health post est entièrement financé"  # in her language, now known
    assert service.repository.waiting == {}


async def test_a_recipient_whose_data_the_database_refuses_is_reported_failed_and_the_others_are_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = Service()
    for known in ("amina", "leila", "omar"):
        await service.consume(service.handlers.welcome, member(known, known.title()))
    await places(service)
    for n, pledger in enumerate(("leila", "omar")):
        await service.consume(service.handlers.tell_owner_of_pledge, pledge(f"pl-{n}", pledger, "500.00"))
    add = service.repository.add_notification

    async def refuse_leila(values: dict[str, Any]) -> bool:
        if values["member_id"] == "leila" and values["kind"] == "funding_goal_reached":
            raise DataError("INSERT INTO notifications ...", {}, Exception("value too long"))
        return await add(values)

    monkeypatch.setattr(service.repository, "add_notification", refuse_leila)
    cause = await service.consume(
        service.handlers.celebrate_goal,
        FundingGoalReached(project_id="p-health", total="1000.00", currency="EUR"),
    )

    for told in ("amina", "omar"):
        assert "funding_goal_reached" in [row.kind for row in service.told(told)]
    [failed] = service.published(NotificationFailed)
    assert failed.member_id == "leila" and failed.cause_event_id == cause.id and "DataError" in failed.error


async def test_a_deadlock_while_telling_one_recipient_retries_the_whole_event_instead_of_failing_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = Service()
    for known in ("amina", "leila"):
        await service.consume(service.handlers.welcome, member(known, known.title()))
    await places(service)
    await service.consume(service.handlers.tell_owner_of_pledge, pledge("pl-1", "leila", "1000.00"))

    async def deadlocked(member_id: str) -> None:
        raise DBAPIError("SELECT pg_advisory_xact_lock(...)", {}, Exception("deadlock detected"))

    monkeypatch.setattr(service.repository, "lock_member", deadlocked)
    with pytest.raises(DBAPIError):
        await service.consume(
            service.handlers.celebrate_goal,
            FundingGoalReached(project_id="p-health", total="1000.00", currency="EUR"),
        )
    assert service.published(NotificationFailed) == []


async def test_preferences_refuse_private_webhooks_and_erased_identities_and_keep_a_secret() -> None:
    service = Service()
    await service.consume(service.handlers.welcome, member("hana", "Hana"))
    hana = Identity("hana", frozenset({"member"}))

    private = Preferences(webhook_url="http://10.0.0.5/hook")
    with pytest.raises(InvalidField, match="webhook_url"):
        await service.handlers.set_preferences(hana, SetPreferences("hana", private))
    with pytest.raises(Forbidden):
        await service.handlers.set_preferences(
            Identity("omar", frozenset({"member"})), SetPreferences("hana", Preferences())
        )
    saved, time_zone = await service.handlers.set_preferences(
        hana, SetPreferences("hana", Preferences(digest="daily", webhook_url="https://ngo.example/hook"))
    )
    assert saved.webhook_secret and time_zone == "Europe/Brussels"
    again, _ = await service.handlers.preferences(hana, "hana")
    assert again.webhook_secret == saved.webhook_secret and again.digest == "daily"

    await service.consume(lambda event, uow: service.handlers.erase("hana", uow), member("x", "X"))
    with pytest.raises(Forbidden):
        await service.handlers.preferences(hana, "hana")
    operator = Identity("operator-1", frozenset({"operator"}))
    with pytest.raises(NotFound):
        await service.handlers.set_preferences(operator, SetPreferences("hana", Preferences()))


async def test_erasure_forgets_the_member_their_emails_and_what_waited_and_tells_them_nothing_more() -> None:
    service = Service()
    await service.consume(service.handlers.welcome, member("amina", "Amina"))
    await service.consume(service.handlers.welcome, member("claire", "Claire"))
    [email] = service.told("claire", "email")
    await places(service)
    await service.consume(service.handlers.tell_owner_of_pledge, pledge("pl-1", "ghost", "1000.00"))
    await service.consume(
        service.handlers.celebrate_goal,
        FundingGoalReached(project_id="p-health", total="1000.00", currency="EUR"),
    )
    assert [member_id for _, member_id in service.repository.waiting] == ["ghost"]

    await service.consume(lambda event, uow: service.handlers.erase("claire", uow), member("x", "X"))
    assert service.forgotten == [email.message_id]  # its .eml file goes once the erasure commits
    assert service.told("claire") == []
    assert [m for m in service.repository.messages.values() if m.member_id == "claire"] == []
    contact = service.repository.contacts["claire"]
    assert (contact.display_name, contact.email, contact.erased) == (None, None, True)
    await service.consume(lambda event, uow: service.handlers.erase("ghost", uow), member("x", "X"))
    assert service.repository.waiting == {}
