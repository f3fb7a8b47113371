"""The notifications service's hot paths on the real NATS and PostgreSQL, statement by statement (what
PostgreSQL is sent, as asyncpg sends it): a proposal's inbox message and e-mail are written in one
statement, and looking for work when there is none opens no transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from ..harness import Databases, eventually
from .scenario import publish
from .test_notifications import World, _emails_to, member, project, proposal
from .test_notifications_hardening import running

TRANSACTION_ENDS = ("COMMIT", "ROLLBACK")
# The service's own tables (the outbox and the inbox are the messaging kit's).
OWN_TABLES = ("messages", "notifications", "contacts", "preferences", "projects", "fan_outs", "waiting_for")


@dataclass
class Statements:
    """Every statement the notifications service sends, per connection, in order."""

    sent: list[tuple[int, str]] = field(default_factory=list)

    def forget(self) -> None:
        self.sent.clear()

    def transactions(self) -> Iterator[tuple[list[str], str]]:
        """Each transaction's statements and how it ended; a statement outside any is its own."""
        open_: dict[int, list[str]] = {}
        for connection, query in self.sent:
            verb = query.split(maxsplit=1)[0].upper().rstrip(";")
            if verb == "BEGIN":
                open_[connection] = []
            elif verb in TRANSACTION_ENDS:
                yield open_.pop(connection, []), verb
            elif connection in open_:
                open_[connection].append(query)
            else:
                yield [query], "AUTOCOMMIT"

    def outside_transactions(self, touching: str) -> list[str]:
        alone = [queries for queries, how in self.transactions() if how == "AUTOCOMMIT"]
        return [query for queries in alone for query in queries if touching in query]


@pytest.fixture
async def world(clean_nats: str, databases: Databases, tmp_path: Path) -> AsyncIterator[World]:
    async with running(clean_nats, databases, tmp_path) as world:
        yield world


@pytest.fixture
def statements(world: World) -> Statements:
    """What SQLAlchemy executes, and the BEGIN, COMMIT and ROLLBACK that asyncpg sends around it."""
    log = Statements()
    logged: set[int] = set()
    engine = world.platform.services["notifications"].database.engine.sync_engine

    @event.listens_for(engine, "checkout")
    def ends(dbapi_connection: Any, *_: Any) -> None:
        connection = dbapi_connection.driver_connection
        if id(connection) not in logged:  # asyncpg logs only what it sends as simple queries
            logged.add(id(connection))
            connection.add_query_logger(lambda query: log.sent.append((id(connection), query.query.strip())))

    @event.listens_for(engine, "after_cursor_execute")
    def statement(connection: Any, _cursor: Any, query: str, *_: Any) -> None:
        # After it ran: the BEGIN sent before it is logged first.
        log.sent.append((id(connection.connection.driver_connection), " ".join(query.split())))

    return log


async def test_a_proposal_is_told_in_the_inbox_and_by_email_in_one_statement_and_nothing_rolls_back(
    world: World, statements: Statements
) -> None:
    await publish(world.platform, member("youssef", "Youssef", "fr"))
    await publish(world.platform, project())
    await publish(world.platform, proposal("youssef", "m-warm-up"))  # the statement caches warm up
    await eventually(lambda: _delivered(world, 1))
    statements.forget()

    await publish(world.platform, proposal("youssef", "m-1"))

    # Watched from outside the service (its HTTP reads would be counted with the rest).
    assert await eventually(lambda: _delivered(world, 2)) == {"inbox": 2, "email": 2}
    assert len(await _emails_to(world, "youssef@example.org", 3)) == 3  # welcome, warm-up, m-1
    writes = [query for _, query in statements.sent if "INSERT INTO notifications" in query]
    assert len(writes) == 1  # both channels, and the e-mail's message, in one statement
    rolled_back = [
        query
        for queries, how in statements.transactions()
        if how == "ROLLBACK"
        for query in queries
        if any(table in query for table in OWN_TABLES)
    ]
    assert rolled_back == []  # no read of the dispatcher or look for work wrapped in a transaction


async def test_looking_for_e_mails_webhook_calls_and_news_when_there_are_none_opens_no_transaction(
    world: World, statements: Statements
) -> None:
    statements.forget()

    async def looked() -> bool:  # each watching worker looks every dispatch interval
        claims = statements.outside_transactions("UPDATE messages")
        news = statements.outside_transactions("FROM fan_outs")
        return len(claims) >= 4 and len(news) >= 2

    await eventually(looked)
    inside = [queries for queries, how in statements.transactions() if how != "AUTOCOMMIT"]
    assert [q for queries in inside for q in queries if any(table in q for table in OWN_TABLES)] == []


async def _delivered(world: World, count: int) -> dict[str, int]:
    """The proposals delivered on each channel, once each has `count` (else nothing)."""
    rows = await world.sql(
        "SELECT channel, count(*) AS n FROM notifications"
        " WHERE kind = 'match_proposed' AND status = 'delivered' GROUP BY channel"
    )
    delivered = {row["channel"]: row["n"] for row in rows}
    return delivered if delivered and min(delivered.values()) >= count else {}
