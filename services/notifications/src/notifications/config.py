"""The notifications service's own settings: how messages leave the platform. Read from the same
`PASSERELLE_*` environment variables as before they moved here, so deployments keep working."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotificationsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSERELLE_", extra="ignore")

    smtp_url: SecretStr | None = Field(
        default=None,
        description="smtp://user:password@host:587 (STARTTLS) or smtps://host:465; unset: .eml files",
    )
    mail_from: str = Field(default="Passerelle <no-reply@passerelle.invalid>", description="From: of e-mails")
    mail_dir: Path | None = Field(default=None, description="Where e-mails go without SMTP; data_dir/mail")
    webhook_allowed_networks: list[str] = Field(
        default=[],
        description="Non-public networks that webhooks may reach anyway (CIDR), e.g. 10.1.0.0/16",
    )
    webhook_timeout: float = Field(default=10.0, description="Seconds before a webhook POST is abandoned")
    webhook_secret_overlap: float = Field(
        default=24 * 3600.0,
        ge=0,
        description="Seconds after a rotation during which calls are signed with the old secret too",
    )
    delivery_retry_delays: list[float] = Field(
        default=[30.0, 120.0, 600.0, 3600.0, 6 * 3600.0],
        description="Delay before each new try of an e-mail or webhook; after the last, NotificationFailed",
    )
    dispatch_interval: float = Field(
        default=1.0, description="Seconds between looks for due e-mails and webhooks"
    )
    message_burst_seconds: float = Field(
        default=120.0,
        ge=0,
        description="Seconds the e-mail of a new message waits for the rest of its thread's burst",
    )
    email_workers: int = Field(default=4, ge=1, description="E-mails sent at once by one process")
    webhook_workers: int = Field(default=4, ge=1, description="Webhook calls made at once by one process")
    fan_out_chunk: int = Field(
        default=200,
        ge=1,
        le=800,
        description="Members told of one territory news per transaction (each its own, bounded)",
    )
    profile_wait: float = Field(
        default=7 * 24 * 3600.0,
        gt=0,
        description="Seconds something to tell may wait for a member's profile (a pledger not known yet) "
        "before it ends as NotificationFailed",
    )

    @classmethod
    def of(cls, platform: BaseSettings) -> Self:
        """The environment's values, but for those the platform's settings were given in the process
        (`passerelle up`, the tests): those win."""
        given = {**platform.model_dump(exclude_unset=True), **(platform.model_extra or {})}
        return cls(**{name: value for name, value in given.items() if name in cls.model_fields})
