"""The outbox and inbox tables in a service's first Alembic migration, written once for every service.

A migration is history: these are the tables as version 1 of the messaging kit created them, spelled
out rather than read from `tables.py`, so that a later change to the tables comes with a migration of
its own instead of silently rewriting the first one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic.operations import Operations
from sqlalchemy.dialects import postgresql


def create_messaging_tables(op: Operations) -> None:
    """Create the inbox and the outbox (`op` is Alembic's `alembic.op`)."""
    op.create_table(
        "passerelle_inbox",
        sa.Column("consumer", sa.String(length=120), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column(
            "processed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )
    op.create_table(
        "passerelle_outbox",
        sa.Column(
            "id", sa.BigInteger(), sa.Identity(always=False), nullable=False, comment="Publication order"
        ),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False, comment="The exact bytes to publish"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )


def drop_messaging_tables(op: Operations) -> None:
    """Drop what `create_messaging_tables` created, in the reverse order."""
    op.drop_table("passerelle_outbox")
    op.drop_table("passerelle_inbox")


def create_idempotency_table(op: Operations) -> None:
    """Create the table of answers to requests sent with an `Idempotency-Key` (contract 4.1), in the
    migration of a service that makes one of its routes idempotent (passerelle.runtime.idempotency)."""
    op.create_table(
        "passerelle_idempotency",
        sa.Column("caller", sa.String(length=200), nullable=False, comment="The token's sub"),
        sa.Column("route", sa.String(length=300), nullable=False, comment="Method and path template"),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False, comment="SHA-256 of path, body"),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("caller", "route", "key"),
    )
    op.create_index("ix_passerelle_idempotency_created_at", "passerelle_idempotency", ["created_at"])


def drop_idempotency_table(op: Operations) -> None:
    op.drop_table("passerelle_idempotency")
