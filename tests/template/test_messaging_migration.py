"""Every service's first migration creates the outbox and the inbox through one helper, exactly as the
messaging code that writes to them declares them."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from passerelle.messaging.migrations import drop_messaging_tables
from passerelle.messaging.tables import messaging_metadata
from passerelle.runtime.service import load_services
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import create_async_engine

from ..harness import Databases

MESSAGING_TABLES = set(messaging_metadata.tables)


def _differences(connection: Connection) -> list[object]:
    """What Alembic would change to make the database's outbox and inbox those of `tables.py`."""
    context = MigrationContext.configure(
        connection, opts={"include_name": lambda name, kind, _: kind != "table" or name in MESSAGING_TABLES}
    )
    return list(compare_metadata(context, messaging_metadata))


def _drop_and_list(connection: Connection) -> set[str]:
    with Operations.context(MigrationContext.configure(connection)):
        from alembic import op

        drop_messaging_tables(op)
    return set(inspect(connection).get_table_names())


@pytest.mark.parametrize("service", [definition.name for definition in load_services()])
async def test_a_services_migrated_database_has_the_outbox_and_inbox_the_messaging_code_writes_to(
    databases: Databases, service: str
) -> None:
    engine = create_async_engine(await databases.fresh(service))
    try:
        async with engine.begin() as connection:
            assert await connection.run_sync(_differences) == []
            remaining = await connection.run_sync(_drop_and_list)
        assert not MESSAGING_TABLES & remaining
        assert remaining  # the service's own tables are not the helper's to drop
    finally:
        await engine.dispose()
