"""What the gatherings service's events tell, and to whom: a new gathering is territory news; a
registrant hears that their place is confirmed (with the calendar file), that they wait, that a
place freed up for them, that the gathering changed or is cancelled, and a reminder before it
starts; times are shown in the venue's time zone and, when it differs, in the member's.

This module keeps its own read models (the gatherings and who registered), fed by those events;
telling goes through the notifications handlers, like every other notice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from passerelle.contracts import (
    CloudEvent,
    GatheringCancelled,
    GatheringScheduled,
    GatheringSnapshot,
    GatheringUpdated,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationReminderDue,
    RegistrationWaitlisted,
)
from passerelle.errors import NotYetKnown
from passerelle.messaging.consumers import EventConsumers
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import DateTime, String, delete, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from .handlers import NotificationsHandlers, Unit
from .notifier import Notice, Values
from .orm import Base
from .texts import phrases

CONSUMES = (
    GatheringScheduled,
    GatheringUpdated,
    GatheringCancelled,
    RegistrationConfirmed,
    RegistrationWaitlisted,
    RegistrationPromoted,
    RegistrationCancelled,
    RegistrationReminderDue,
)
# Changes registrants hear of: where and when.
SCHEDULE = frozenset({"starts_at", "ends_at", "time_zone", "venue", "format", "online_url"})
SUMMARY_LENGTH = 300


class GatheringNoticeSettings(BaseSettings):
    """The portal's address, shared with the gatherings service: messages link to a gathering's page."""

    model_config = SettingsConfigDict(env_prefix="PASSERELLE_GATHERINGS_", extra="ignore")

    public_url: str = Field(default="http://localhost:8080")


class GatheringFactsRow(Base):
    """What messages say of a gathering: its newest snapshot."""

    __tablename__ = "gathering_facts"

    gathering_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    territory_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    time_zone: Mapped[str] = mapped_column(String(64))
    place: Mapped[str | None] = mapped_column(String(200), comment="The venue's city; NULL online")
    location: Mapped[str | None] = mapped_column(String(1000))
    organisers: Mapped[list[str]] = mapped_column(JSONB, default=list)
    status: Mapped[str] = mapped_column(String(20))
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GatheringRegistrantRow(Base):
    """Who registered for a gathering (confirmed or waiting): they hear of its changes."""

    __tablename__ = "gathering_registrants"

    registration_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    gathering_id: Mapped[str] = mapped_column(String(100), index=True)
    member_id: Mapped[str] = mapped_column(String(100), index=True)


class GatheringFacts:
    """Reads and writes of the two read models, on the notifications unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def remember(self, data: GatheringSnapshot, as_of: datetime) -> None:
        """The newest snapshot wins whatever the arrival order; a cancellation stays."""
        venue = data.venue
        values = {
            "title": data.title,
            "territory_id": data.territory_id,
            "kind": data.kind,
            "starts_at": data.starts_at,
            "ends_at": data.ends_at,
            "time_zone": data.time_zone,
            "place": venue.city if venue else None,
            "location": ", ".join(p for p in (venue.name, venue.address, venue.city) if p) if venue else None,
            "organisers": [data.organiser_member_id, *data.co_organiser_member_ids],
            "status": "published",
        }
        statement = insert(GatheringFactsRow).values(gathering_id=data.gathering_id, as_of=as_of, **values)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[GatheringFactsRow.gathering_id],
                set_={**{key: statement.excluded[key] for key in values if key != "status"}, "as_of": as_of},
                where=GatheringFactsRow.as_of < statement.excluded.as_of,
            )
        )

    async def gathering(self, gathering_id: str) -> GatheringFactsRow:
        row = await self.session.get(GatheringFactsRow, gathering_id)
        if row is None:  # its GatheringScheduled is on its way, through another consumer
            raise NotYetKnown(f"waiting for gathering {gathering_id}")
        return row

    async def add_registrant(self, registration_id: str, gathering_id: str, member_id: str) -> None:
        statement = insert(GatheringRegistrantRow).values(
            registration_id=registration_id, gathering_id=gathering_id, member_id=member_id
        )
        await self.session.execute(statement.on_conflict_do_nothing())

    async def remove_registrant(self, registration_id: str) -> None:
        await self.session.execute(
            delete(GatheringRegistrantRow).where(GatheringRegistrantRow.registration_id == registration_id)
        )

    async def registrants(self, gathering_id: str) -> list[str]:
        query = select(GatheringRegistrantRow.member_id).where(
            GatheringRegistrantRow.gathering_id == gathering_id
        )
        return sorted(set(await self.session.scalars(query)))

    async def forget_member(self, member_id: str) -> None:
        await self.session.execute(
            delete(GatheringRegistrantRow).where(GatheringRegistrantRow.member_id == member_id)
        )


def when(gathering: GatheringFactsRow, member_zone: str, language: str) -> str:
    """When it starts, as "on 11 Dec 2026 at 18:00 in Tafraout, 19:00 for you in Brussels": the
    venue's time, and the member's when their clock shows another."""
    texts = phrases(language)["gathering_when"]
    venue = gathering.starts_at.astimezone(ZoneInfo(gathering.time_zone))
    theirs = gathering.starts_at.astimezone(ZoneInfo(member_zone))
    values = {
        "date": venue.strftime(texts["date_format"]),
        "venue_time": venue.strftime("%H:%M"),
        "where": texts["in_place"].format(place=gathering.place) if gathering.place else texts["online"],
        "zone": member_zone.rsplit("/", 1)[-1].replace("_", " "),
        "member_time": theirs.strftime("%H:%M"),
    }
    if theirs.date() != venue.date():
        values["member_time"] += f" ({theirs.strftime(texts['date_format'])})"
    same_clock = theirs.replace(tzinfo=None) == venue.replace(tzinfo=None)
    return str(texts["here" if same_clock else "both"].format(**values))


def calendar_file(gathering: GatheringFactsRow, link: str) -> str:
    """The gathering as an iCalendar file: UTC times and its page (the online link stays on the page)."""
    event = Event()
    event.add("uid", f"{gathering.gathering_id}@passerelle")
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", gathering.starts_at.astimezone(UTC))
    event.add("dtend", gathering.ends_at.astimezone(UTC))
    event.add("summary", gathering.title)
    event.add("url", link)
    event.add("description", link)
    if gathering.location:
        event.add("location", gathering.location)
    feed = Calendar()
    feed.add("prodid", "-//Passerelle//Gatherings//EN")
    feed.add("version", "2.0")
    feed.add("method", "PUBLISH")
    feed.add_component(event)
    return str(feed.to_ical().decode())


class GatheringNotices:
    def __init__(self, handlers: NotificationsHandlers, settings: GatheringNoticeSettings) -> None:
        self.handlers = handlers
        self.portal = settings.public_url.rstrip("/")

    def link(self, gathering_id: str) -> str:
        return f"{self.portal}/app/g/{gathering_id}"

    async def announce(self, event: CloudEvent[GatheringScheduled], uow: Unit) -> None:
        """News of a gathering, to members attached to its territory (or one above) who asked for
        it, through the territory news' fan-out: its texts are made once per language, so they give
        the venue's time (registrants' own notices give theirs too)."""
        data, repository = event.data, uow.repository
        facts = GatheringFacts(repository.session)
        await facts.remember(data, event.time)
        gathering = await facts.gathering(data.gathering_id)
        territory = await repository.territory_name(data.territory_id) or ""
        summary = data.description
        if len(summary) > SUMMARY_LENGTH:
            summary = summary[: SUMMARY_LENGTH - 3].rstrip() + "..."
        texts = self._texts(gathering, gathering.time_zone, {"territory": territory, "summary": summary})
        ids = {"gathering_id": data.gathering_id, "territory_id": data.territory_id}
        notice = Notice(event.id, "gathering_scheduled", texts, ids)
        await self.handlers.tell_territory_news(uow, data.territory_id, notice, besides=gathering.organisers)

    async def follow_change(self, event: CloudEvent[GatheringUpdated], uow: Unit) -> None:
        data = event.data
        facts = GatheringFacts(uow.repository.session)
        await facts.remember(data, event.time)
        changed = SCHEDULE.intersection(data.changed)
        if not changed:
            return
        gathering = await facts.gathering(data.gathering_id)
        ids = {"gathering_id": data.gathering_id, "changed": sorted(changed)}
        registrants = await facts.registrants(data.gathering_id)
        await self._tell_each(
            uow, registrants, gathering, event.id, "gathering_changed", ids, what=", ".join(sorted(changed))
        )

    async def tell_cancellation(self, event: CloudEvent[GatheringCancelled], uow: Unit) -> None:
        facts = GatheringFacts(uow.repository.session)
        gathering = await facts.gathering(event.data.gathering_id)
        gathering.status = "cancelled"
        ids = {"gathering_id": gathering.gathering_id}
        registrants = await facts.registrants(gathering.gathering_id)
        await self._tell_each(
            uow, registrants, gathering, event.id, "gathering_cancelled", ids, reason=event.data.reason
        )

    async def tell_registrant(
        self,
        event: CloudEvent[RegistrationConfirmed]
        | CloudEvent[RegistrationWaitlisted]
        | CloudEvent[RegistrationPromoted],
        uow: Unit,
        kind: str,
    ) -> None:
        """Confirmed and promoted registrants get the calendar file with their notice."""
        data = event.data
        facts = GatheringFacts(uow.repository.session)
        gathering = await facts.gathering(data.gathering_id)
        await facts.add_registrant(data.registration_id, data.gathering_id, data.member_id)
        ids: dict[str, Any] = {"gathering_id": data.gathering_id, "registration_id": data.registration_id}
        extra: dict[str, str] = {}
        if isinstance(data, RegistrationWaitlisted):
            extra["position"] = str(data.position)
        else:
            ids["ics"] = calendar_file(gathering, self.link(data.gathering_id))
        await self._tell_each(uow, [data.member_id], gathering, event.id, kind, ids, **extra)

    async def forget_registration(self, event: CloudEvent[RegistrationCancelled], uow: Unit) -> None:
        await GatheringFacts(uow.repository.session).remove_registrant(event.data.registration_id)

    async def remind(self, event: CloudEvent[RegistrationReminderDue], uow: Unit) -> None:
        """The reminder of one start time: if the gathering moved since, the reminder of its new
        time is the one to tell."""
        data = event.data
        gathering = await GatheringFacts(uow.repository.session).gathering(data.gathering_id)
        if gathering.starts_at != data.starts_at:
            if gathering.as_of < event.time:  # the change behind this reminder is on its way
                raise NotYetKnown(f"waiting for the change of gathering {data.gathering_id}")
            return
        if gathering.status != "published":
            return
        ids = {"gathering_id": data.gathering_id, "registration_id": data.registration_id}
        await self._tell_each(uow, [data.member_id], gathering, event.id, "gathering_reminder", ids)

    async def _tell_each(
        self,
        uow: Unit,
        member_ids: list[str],
        gathering: GatheringFactsRow,
        cause_id: str,
        kind: str,
        ids: dict[str, Any],
        **values: str,
    ) -> None:
        """Each member hears of it in their language, with the time in both zones: one fan-out per
        time zone, every recipient locked first and in order, as the fan-out itself does."""
        repository = uow.repository
        await repository.lock_members(member_ids)
        by_zone: dict[str, list[str]] = {}
        for member_id in member_ids:
            contact = await repository.contact(member_id)
            by_zone.setdefault(contact.time_zone if contact else "UTC", []).append(member_id)
        for zone, members in sorted(by_zone.items()):
            texts = self._texts(gathering, zone, values)
            await self.handlers._tell_each(uow, members, Notice(cause_id, kind, texts, ids))

    def _texts(self, gathering: GatheringFactsRow, zone: str, values: dict[str, str]) -> Values:
        """The notice's values in a language, for a member whose clock is `zone`."""
        link = self.link(gathering.gathering_id)

        def texts(language: str) -> dict[str, str]:
            kinds = phrases(language)["gathering_kinds"]
            return {
                "gathering": gathering.title,
                "when": when(gathering, zone, language),
                "link": link,
                "kind": str(kinds.get(gathering.kind, gathering.kind)),
                **values,
            }

        return texts


async def forget_registrant(member_id: str, uow: Unit) -> None:
    """An erased member no longer appears among any gathering's registrants."""
    await GatheringFacts(uow.repository.session).forget_member(member_id)


def register_gathering_subscribers(consumers: EventConsumers, handlers: NotificationsHandlers) -> None:
    notices = GatheringNotices(handlers, GatheringNoticeSettings())

    @consumers.on(GatheringScheduled)
    async def on_gathering_scheduled(event: CloudEvent[GatheringScheduled], uow: Unit) -> None:
        """Territory news: members attached to the territory or one above who asked for it."""
        await notices.announce(event, uow)

    @consumers.on(GatheringUpdated)
    async def on_gathering_updated(event: CloudEvent[GatheringUpdated], uow: Unit) -> None:
        """Registrants hear when the time or the place changed."""
        await notices.follow_change(event, uow)

    @consumers.on(GatheringCancelled)
    async def on_gathering_cancelled(event: CloudEvent[GatheringCancelled], uow: Unit) -> None:
        await notices.tell_cancellation(event, uow)

    @consumers.on(RegistrationConfirmed)
    async def on_registration_confirmed(event: CloudEvent[RegistrationConfirmed], uow: Unit) -> None:
        """The place is confirmed, with the calendar file."""
        await notices.tell_registrant(event, uow, "gathering_confirmed")

    @consumers.on(RegistrationWaitlisted)
    async def on_registration_waitlisted(event: CloudEvent[RegistrationWaitlisted], uow: Unit) -> None:
        await notices.tell_registrant(event, uow, "gathering_waitlisted")

    @consumers.on(RegistrationPromoted)
    async def on_registration_promoted(event: CloudEvent[RegistrationPromoted], uow: Unit) -> None:
        """A place freed up: the member has it, with the calendar file."""
        await notices.tell_registrant(event, uow, "gathering_promoted")

    @consumers.on(RegistrationCancelled)
    async def on_registration_cancelled(event: CloudEvent[RegistrationCancelled], uow: Unit) -> None:
        """The member no longer hears of the gathering's changes."""
        await notices.forget_registration(event, uow)

    @consumers.on(RegistrationReminderDue)
    async def on_registration_reminder_due(event: CloudEvent[RegistrationReminderDue], uow: Unit) -> None:
        await notices.remind(event, uow)
