"""Alembic environment of the opportunities service: its tables plus the shared outbox and inbox."""

from alembic import context
from opportunities.orm import Base
from passerelle.messaging.tables import messaging_metadata
from passerelle.persistence.migrations import run_migrations_online

run_migrations_online(context.config, Base.metadata, messaging_metadata)
