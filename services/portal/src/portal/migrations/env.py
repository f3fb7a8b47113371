"""Alembic environment of the portal service: it owns no domain data, only the shared outbox and inbox."""

from alembic import context
from passerelle.messaging.tables import messaging_metadata
from passerelle.persistence.migrations import run_migrations_online

run_migrations_online(context.config, messaging_metadata)
