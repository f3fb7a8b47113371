"""Streams and durable consumers, created by `passerelle nats provision`: the streams of the contract,
and one durable per event a service declares it consumes.

Apps bind to the durables without declaring them: an existing durable silently ignores config
changes made in code, so the provisioning command is the one place that creates and updates them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError

from passerelle.contracts import STREAMS, EventData, Stream, stream_of

# What each service consumes, by service name: declared by each service (its ServiceDefinition) and
# handed down here as data. One durable pull consumer per (service, event).
Consumed = Mapping[str, Sequence[type[EventData]]]


@dataclass(frozen=True)
class Subscription:
    service: str
    event: type[EventData]

    @property
    def durable(self) -> str:
        return f"{self.service}__{self.event.event_name}_v{self.event.version}"

    @property
    def stream(self) -> Stream:
        return stream_of(self.event)


def subscriptions(consumed: Consumed) -> list[Subscription]:
    return [Subscription(service, event) for service, events in consumed.items() for event in events]


@dataclass(frozen=True)
class TopologySettings:
    duplicate_window: float = 2 * 3600.0
    ack_wait: float = 60.0
    replicas: int = 1
    max_ack_pending: int = 1000
    max_age: float = 0.0  # seconds an event is kept; 0: until other limits


def stream_config(stream: Stream, settings: TopologySettings) -> StreamConfig:
    return StreamConfig(
        name=stream.name,
        subjects=list(stream.subjects),
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        # JetStream refuses a de-duplication window longer than the events are kept.
        duplicate_window=min(settings.duplicate_window, settings.max_age or settings.duplicate_window),
        num_replicas=settings.replicas,
        max_age=settings.max_age or None,
    )


def consumer_config(sub: Subscription, settings: TopologySettings) -> ConsumerConfig:
    return ConsumerConfig(
        name=sub.durable,
        durable_name=sub.durable,
        description=f"{sub.service} handles {sub.event.type_name()}",
        filter_subject=sub.event.subject,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=settings.ack_wait,
        # Unlimited: our delivery policy counts deliveries and moves the last one to the DLQ itself,
        # so a message is never dropped by the server when the DLQ cannot be written.
        max_deliver=-1,
        max_ack_pending=settings.max_ack_pending,
        num_replicas=settings.replicas,
    )


async def provision(js: JetStreamContext, settings: TopologySettings, consumed: Consumed) -> list[str]:
    """Create or update every stream, and the durable consumers of what each service consumes; safe to
    run again. Returns what it did."""
    done = []
    for stream in STREAMS:
        config = stream_config(stream, settings)
        try:
            await js.add_stream(config)
            done.append(f"stream {stream.name}: ok")
        except BadRequestError:  # exists with another configuration
            await js.update_stream(config)
            done.append(f"stream {stream.name}: updated")
    for sub in subscriptions(consumed):
        # Creating by name is create-or-update on the server, so changed settings reach existing durables.
        await js.add_consumer(sub.stream.name, consumer_config(sub, settings))
        done.append(f"consumer {sub.stream.name}/{sub.durable}: ok")
    return done
