"""Alembic environment of the portal service: no domain data, the ended sessions, the outbox and inbox."""

from alembic import context
from passerelle.messaging.tables import messaging_metadata
from passerelle.persistence.migrations import run_migrations_online
from portal.sessions import sessions_metadata

run_migrations_online(context.config, sessions_metadata, messaging_metadata)
