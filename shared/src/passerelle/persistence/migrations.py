"""Alembic, per service: each service's `migrations/` folder and its own database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def alembic_config(migrations: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(migrations: Path, database_url: str, revision: str = "head") -> None:
    """Run a service's migrations (blocking: call it in a thread from async code)."""
    command.upgrade(alembic_config(migrations, database_url), revision)


# Tables a service creates by calling a helper in one of its migrations, when it needs them, rather
# than by declaring them: autogenerate must not propose to drop them.
HELPER_TABLES = frozenset({"passerelle_idempotency"})


def _not_created_by_a_helper(name: str | None, kind: str, _parent: object) -> bool:
    return not (kind == "table" and name in HELPER_TABLES)


def run_migrations_online(config: Config, *metadata: MetaData) -> None:
    """The body of every service's `env.py`: its own tables, and the outbox and inbox (messaging's)."""
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None

    def migrate(connection: Connection) -> None:
        from alembic import context

        context.configure(
            connection=connection, target_metadata=list(metadata), include_name=_not_created_by_a_helper
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(run())
