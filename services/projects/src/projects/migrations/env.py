"""Alembic environment of the projects service: its tables plus the shared outbox and inbox."""

from alembic import context
from passerelle.messaging.tables import messaging_metadata
from passerelle.persistence.migrations import run_migrations_online
from projects.orm import Base

run_migrations_online(context.config, Base.metadata, messaging_metadata)
