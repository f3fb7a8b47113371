"""Alembic environment of the projects service: its tables plus the shared outbox and inbox."""

from alembic import context
from passerelle.persistence.migrations import run_migrations_online
from projects.orm import Base

run_migrations_online(context.config, Base.metadata)
