"""A member's notification preferences: which channels for which kind of message, and how often."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from .orm import PreferencesRow
from .texts import KINDS
from .webhooks import new_secret

CHANNELS = ("inbox", "email", "webhook")
SENT_CHANNELS = CHANNELS[1:]  # those the dispatcher sends
# Everything reaches the inbox; e-mail and webhook too unless the member says otherwise (a webhook
# only once it has a URL). Flooding is avoided by digests, not by hiding messages by default.
DEFAULT_CHANNELS = CHANNELS


@dataclass(frozen=True)
class Preferences:
    channels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    digest: str = "immediate"
    digest_hour: int = 8
    webhook_url: str | None = None
    webhook_secret: str | None = None
    territory_news: tuple[str, ...] = ()
    # The secret a rotation replaced, and when: it still signs for the overlap the operator sets.
    previous_webhook_secret: str | None = None
    webhook_secret_rotated_at: datetime | None = None
    opportunity_news: tuple[str, ...] = ()

    @classmethod
    def of(cls, row: PreferencesRow | None) -> Preferences:
        if row is None:
            return cls()
        return cls(
            channels={kind: tuple(channels) for kind, channels in row.channels.items()},
            digest=row.digest,
            digest_hour=row.digest_hour,
            webhook_url=row.webhook_url,
            webhook_secret=row.webhook_secret,
            territory_news=tuple(row.territory_news),
            previous_webhook_secret=row.previous_webhook_secret,
            webhook_secret_rotated_at=row.webhook_secret_rotated_at,
            opportunity_news=tuple(row.opportunity_news),
        )

    def channels_for(self, kind: str) -> tuple[str, ...]:
        """The inbox always, then what the member chose for this kind (the defaults if nothing)."""
        chosen = self.channels.get(kind, DEFAULT_CHANNELS)
        return ("inbox", *(channel for channel in CHANNELS[1:] if channel in chosen))

    def every_kind(self) -> dict[str, list[str]]:
        return {kind: list(self.channels_for(kind)) for kind in KINDS}

    def with_secret(self, previous: Preferences, rotate: bool, now: datetime) -> Preferences:
        """A webhook keeps its signing secret across saves until the member asks for a new one; the
        secret a rotation replaces is kept, with the time, so that receivers can switch over."""
        if self.webhook_url is None:
            return replace(
                self, webhook_secret=None, previous_webhook_secret=None, webhook_secret_rotated_at=None
            )
        if previous.webhook_url and previous.webhook_secret and not rotate:
            return replace(
                self,
                webhook_secret=previous.webhook_secret,
                previous_webhook_secret=previous.previous_webhook_secret,
                webhook_secret_rotated_at=previous.webhook_secret_rotated_at,
            )
        replaced = previous.webhook_secret if previous.webhook_url else None
        return replace(
            self,
            webhook_secret=new_secret(),
            previous_webhook_secret=replaced,
            webhook_secret_rotated_at=now if replaced else None,
        )

    def signing_secrets(self, now: datetime, overlap: timedelta) -> list[str]:
        """The secrets a call is signed with: the current one, and the one it replaced while the
        rotation's overlap lasts."""
        current = [self.webhook_secret] if self.webhook_secret else []
        rotated_at = self.webhook_secret_rotated_at
        if self.previous_webhook_secret and rotated_at is not None and now < rotated_at + overlap:
            return [*current, self.previous_webhook_secret]
        return current

    def write(self, row: PreferencesRow) -> None:
        row.channels = {kind: list(channels) for kind, channels in self.channels.items()}
        row.digest = self.digest
        row.digest_hour = self.digest_hour
        row.webhook_url = self.webhook_url
        row.webhook_secret = self.webhook_secret
        row.previous_webhook_secret = self.previous_webhook_secret
        row.webhook_secret_rotated_at = self.webhook_secret_rotated_at
        row.territory_news = list(self.territory_news)
        row.opportunity_news = list(self.opportunity_news)
