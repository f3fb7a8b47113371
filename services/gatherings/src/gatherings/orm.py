"""The gatherings service's tables."""

from datetime import datetime

from sqlalchemy import DateTime, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData()


class GatheringRow(Base):
    __tablename__ = "gatherings"

    gathering_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    owner_member_id: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
