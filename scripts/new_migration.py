"""Write a service's next Alembic migration from the difference between its tables and its schema.

    uv run python scripts/new_migration.py members "consent and history"

Starts a throw-away embedded PostgreSQL, migrates the service's database to head, and lets Alembic
compare it with the service's SQLAlchemy tables. Read the generated file before committing it.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from alembic import command
from passerelle.embedded.postgres import EmbeddedPostgres
from passerelle.persistence.database import ensure_database
from passerelle.persistence.migrations import alembic_config, upgrade
from passerelle.runtime.service import load_services


async def main(service: str, message: str) -> None:
    [definition] = load_services([service])
    with tempfile.TemporaryDirectory() as data_dir:
        postgres = EmbeddedPostgres(data_dir=Path(data_dir) / "pg", port=55432, durable=False)
        await postgres.start()
        try:
            url = postgres.url(f"passerelle_{service}")
            await ensure_database(url)
            await asyncio.to_thread(upgrade, definition.migrations, url)
            config = alembic_config(definition.migrations, url)
            revisions = len(list((definition.migrations / "versions").glob("[0-9]*.py")))
            await asyncio.to_thread(
                command.revision, config, message=message, autogenerate=True, rev_id=f"{revisions + 1:04d}"
            )
        finally:
            await postgres.stop()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1], sys.argv[2]))
