"""Telling several members: what one recipient's data causes is theirs alone, anything else retries."""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from notifications.handlers import NotificationsHandlers
from passerelle.taxonomy import load_taxonomy
from sqlalchemy.exc import DataError, DBAPIError


class Session:
    @contextlib.asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        yield


class UnitOfWork:
    def __init__(self) -> None:
        self.session = Session()
        self.recorded: list[Any] = []

    def record(self, data: Any) -> None:
        self.recorded.append(data)


def handlers() -> NotificationsHandlers:
    return NotificationsHandlers(lambda: None, load_taxonomy(), on_queued=lambda: None, forget_emails=print)  # type: ignore[arg-type, return-value]


async def test_a_deadlock_while_telling_one_recipient_retries_the_event_instead_of_failing_them() -> None:
    uow = UnitOfWork()

    async def deadlocked() -> None:
        raise DBAPIError("SELECT pg_advisory_xact_lock(...)", {}, Exception("deadlock detected"))

    with pytest.raises(DBAPIError):
        await handlers()._alone(uow, "e-1", "funding_goal_reached", "leila", deadlocked)  # type: ignore[arg-type]
    assert uow.recorded == []


async def test_a_value_the_database_refuses_for_one_recipient_is_reported_as_their_failure() -> None:
    uow = UnitOfWork()

    async def refused() -> None:
        raise DataError("INSERT INTO notifications ...", {}, Exception("value too long"))

    await handlers()._alone(uow, "e-1", "funding_goal_reached", "leila", refused)  # type: ignore[arg-type]
    [failed] = uow.recorded
    assert failed.member_id == "leila" and "DataError" in failed.error
