"""What the API asks of the use cases, typed."""

from __future__ import annotations

from dataclasses import dataclass

from .preferences import Preferences


@dataclass(frozen=True)
class SetPreferences:
    member_id: str
    wanted: Preferences
    rotate_secret: bool = False


@dataclass(frozen=True)
class DeliveryFilters:
    """Which entries of the delivery log to list; None matches any."""

    member_id: str | None = None
    channel: str | None = None
    status: str | None = None
    kind: str | None = None
    cause_event_id: str | None = None
