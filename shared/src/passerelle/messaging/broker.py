"""The NATS broker every service uses, with our delivery policy and logging."""

from __future__ import annotations

import logging

import structlog
from faststream import AckPolicy
from faststream.nats import NatsBroker
from faststream.nats.prometheus import NatsPrometheusMiddleware
from prometheus_client import REGISTRY

from passerelle.settings import PlatformSettings

from .authorization import inbox_prefix
from .connection import nats_security
from .delivery import DeliveryPolicy

log = structlog.get_logger(__name__)

# One metrics middleware per process: several services in one process (`passerelle up`) share it.
_METRICS = NatsPrometheusMiddleware(registry=REGISTRY, app_name="passerelle")


def make_broker(settings: PlatformSettings, service: str) -> tuple[NatsBroker, DeliveryPolicy]:
    """A broker that retries failed messages (never FastStream's terminate-on-error) and reconnects forever.

    The delivery policy gets its DLQ once the broker is connected (`attach_dead_letters`).
    """
    wait_budget = settings.not_yet_known_wait or 5 * settings.consumer_ack_wait
    if wait_budget <= 2 * settings.consumer_ack_wait:
        # What an event waits for may come back only after an ack wait (a crash mid-handler).
        log.warning(
            "delivery.wait_shorter_than_a_crash_recovery",
            wait=wait_budget,
            ack_wait=settings.consumer_ack_wait,
        )
    policy = DeliveryPolicy(
        settings.retry_delays, wait_budget=wait_budget, wait_max_delay=settings.not_yet_known_max_delay
    )
    broker = NatsBroker(
        servers=[url.strip() for url in settings.nats_url.split(",")],
        name=f"passerelle-{service}",
        inbox_prefix=inbox_prefix(service),  # what its NATS user may subscribe to
        security=nats_security(settings),
        allow_reconnect=True,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=5,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        graceful_timeout=20.0,
        logger=structlog.get_logger(f"passerelle.{service}.broker"),
        # "Received"/"Processed" for every message: for debugging, not for every event in production.
        log_level=logging.DEBUG,
        middlewares=[_METRICS, policy],
        description=f"Passerelle {service} service",
    )
    return broker, policy
