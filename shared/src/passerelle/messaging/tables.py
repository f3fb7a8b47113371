"""Tables every service's database has: the outbox of events to publish and the inbox of events handled."""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

messaging_metadata = MetaData()

outbox = Table(
    "passerelle_outbox",
    messaging_metadata,
    Column("id", BigInteger, Identity(), primary_key=True, comment="Publication order"),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("subject", String(200), nullable=False),
    Column("stream", String(64), nullable=False),
    Column("headers", JSONB, nullable=False),
    Column("payload", LargeBinary, nullable=False, comment="The exact bytes to publish"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

inbox = Table(
    "passerelle_inbox",
    messaging_metadata,
    Column("consumer", String(120), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_passerelle_inbox_processed_at", "processed_at"),  # pruning finds old rows by it
)

# The relay LISTENs here; a unit of work that recorded events NOTIFYs it in its own transaction.
OUTBOX_CHANNEL = "passerelle_outbox"
