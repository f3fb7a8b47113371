"""Settings common to every service, read from `PASSERELLE_*` environment variables."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    """What every service needs to run; secrets come only from the environment."""

    # A service's own settings (e.g. notifications' PASSERELLE_SMTP_URL) are its own to read from the
    # environment; given here in the process (`up`, the tests), they travel as extras it picks up.
    model_config = SettingsConfigDict(env_prefix="PASSERELLE_", extra="allow")

    nats_url: str = Field(default="nats://127.0.0.1:4222", description="NATS server(s), comma separated")
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    nats_token: SecretStr | None = None
    nats_creds_file: Path | None = Field(default=None, description="A .creds file (JWT + NKey)")
    nats_nkey_seed_file: Path | None = None
    nats_consumers_file: Path | None = Field(
        default=None,
        description="Other teams' consumers (TOML: name, events), given NATS users by auth-config and up",
    )

    database_url: str = Field(
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/passerelle",
        description="This service's own database",
    )

    jwt_secret: SecretStr | None = Field(default=None, description="HS256 secret (development)")
    jwks_url: str | None = Field(default=None, description="JWKS endpoint for RS256 tokens (production)")
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_roles_claim: str = Field(
        default="roles", min_length=1, description="Dotted path of the roles claim, e.g. realm_access.roles"
    )
    jwks_timeout: float = Field(default=5.0, gt=0, description="Seconds a JWKS fetch may take")
    jwks_cache: float = Field(
        default=300.0, gt=0, description="Seconds the JWKS is kept; a stale one is kept while the IdP is down"
    )

    taxonomy_file: Path | None = Field(
        default=None,
        description="Skills imported by `passerelle taxonomy import-esco`, added to the curated ones",
    )

    data_dir: Path = Field(default=Path(".passerelle"), description="Where `up` keeps its state")
    host: str = "0.0.0.0"  # noqa: S104 - a service in a container listens on every interface
    port: int = 8080
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies (comma-separated IPs or networks, or *) whose X-Forwarded-Proto and -For are "
        "believed, so that Link headers say https behind a TLS proxy",
    )
    max_request_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Larger request bodies are refused with 413"
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="When set, GET /metrics needs `Authorization: Bearer <token>`"
    )
    tracing: Literal["off", "otlp"] = Field(
        default="off",
        description="otlp: OpenTelemetry traces to the collector the standard OTEL_EXPORTER_OTLP_* variables "
        "name (docs/operators.md, Tracing); off costs nothing",
    )
    log_level: str = "INFO"
    log_json: bool | None = Field(default=None, description="JSON logs; by default only off a terminal")

    retry_delays: list[float] = Field(
        default=[1.0, 5.0, 30.0, 120.0],
        description="Delay before each redelivery of a failed message; after the last, DLQ",
    )
    consumer_batch: int = Field(
        default=64,
        ge=1,
        le=256,
        description="Messages each durable consumer has in hand at once, handled in one transaction",
    )
    consumer_batch_wait: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Seconds a batch waits for more messages before it starts (0: it takes what is there)",
    )
    consumer_ack_wait: float = Field(default=60.0, description="Seconds before an unacked message returns")
    not_yet_known_wait: float | None = Field(
        default=None,
        gt=0,
        description="Seconds an event may wait for what it refers to (NotYetKnown) before the DLQ; "
        "default 5 x consumer_ack_wait, so that it outlasts a crash recovery",
    )
    not_yet_known_max_delay: float = Field(
        default=10.0, gt=0, description="Longest delay between two tries of an event that waits (NotYetKnown)"
    )
    duplicate_window: float = Field(default=2 * 3600.0, description="JetStream de-duplication window (s)")
    stream_max_age: float = Field(
        default=0.0,
        ge=0,
        description="Seconds the streams keep events (0: no limit); it bounds how long an erased member's "
        "past events stay in JetStream, and how long a consumer may be down without losing any",
    )

    inbox_prune_margin: float = Field(
        default=24 * 3600.0,
        ge=0,
        description="Seconds inbox rows outlive the streams' max age (retries, DLQ replays) before pruning",
    )
    inbox_prune_interval: float = Field(default=3600.0, gt=0, description="Seconds between inbox prunings")

    @property
    def inbox_retention(self) -> float | None:
        """Seconds an inbox row is kept; None (kept for ever) when the streams keep events for ever."""
        return self.stream_max_age + self.inbox_prune_margin if self.stream_max_age else None

    @property
    def max_deliveries(self) -> int:
        return len(self.retry_delays) + 1
