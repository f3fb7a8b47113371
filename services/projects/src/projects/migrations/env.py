"""Alembic environment of the projects service: its tables plus the shared outbox and inbox."""

import projects.financing.orm  # noqa: F401 - registers the financing tables
from alembic import context
from passerelle.messaging.tables import messaging_metadata
from passerelle.persistence.migrations import run_migrations_online
from projects.orm import Base

run_migrations_online(context.config, Base.metadata, messaging_metadata)
