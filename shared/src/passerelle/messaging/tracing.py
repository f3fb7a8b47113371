"""OpenTelemetry tracing, off unless PASSERELLE_TRACING=otlp: one trace follows a user's action
through every service it reaches.

The W3C trace context travels inside the CloudEvent (the distributed-tracing extension's `traceparent`
and `tracestate`), so it survives the outbox: `traced` stamps it on an event when it is recorded, the
relay's producer span takes it as parent when it publishes (`publish_traced`, which also sets the
`traceparent` header), and the consumer span continues it (`consuming`), so that the events its
handler records carry it on. We make these few spans ourselves rather than use FastStream's telemetry
middleware: that middleware takes its parent from the context current when publishing, which in the
relay is the relay's loop, not the request that recorded the event hours or milliseconds before.

HTTP (FastAPI, `passerelle.runtime.tracing`), the database (SQLAlchemy) and outgoing HTTP (httpx:
webhooks, the portal's calls) come from OpenTelemetry's instrumentations, imported and installed only
when tracing is on: off, each hook costs one attribute test.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Tracer, get_current_span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from passerelle.contracts import CloudEvent, EventData
from passerelle.settings import PlatformSettings

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

T = TypeVar("T")
E = TypeVar("E", bound=EventData)

_PROPAGATOR = TraceContextTextMapPropagator()


class _Tracing:
    """The process's tracing: None while it is off."""

    provider: TracerProvider | None = None
    statements: TracerProvider | None = None  # SQL statements', traced only within a trace
    tracer: Tracer | None = None


_on = _Tracing()


def configure_tracing(settings: PlatformSettings, service: str) -> None:
    """Send traces over OTLP/HTTP when the settings ask for it (once per process, before the services'
    databases are made: their engines are instrumented when created)."""
    if settings.tracing == "off" or _on.provider is not None:
        return
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME") or service
    # The exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT itself.
    provider = enable_tracing(BatchSpanProcessor(OTLPSpanExporter()), Resource.create({SERVICE_NAME: name}))
    trace.set_tracer_provider(provider)  # for any other library that traces


def enable_tracing(processor: SpanProcessor, resource: Resource | None = None) -> TracerProvider:
    """Trace into `processor` (the tests give one with an in-memory exporter); returns the provider."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased

    provider = TracerProvider(resource=resource)  # sampling: OTEL_TRACES_SAMPLER, by default every trace
    provider.add_span_processor(processor)
    # A statement outside any trace starts none: the relay's and notifications' polling loops would
    # otherwise make a trace a second of nothing a user did.
    statements = TracerProvider(resource=provider.resource, sampler=ParentBased(ALWAYS_OFF))
    statements.add_span_processor(processor)
    # The instrumentation declares SQLAlchemy < 2.1; it works with 2.1 (tests/integration/test_tracing.py).
    SQLAlchemyInstrumentor().instrument(tracer_provider=statements, skip_dep_check=True)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    _on.provider, _on.statements, _on.tracer = provider, statements, provider.get_tracer("passerelle")
    return provider


def disable_tracing() -> None:
    """Stop tracing what is made from now on, once what was traced is exported (the tests turn it
    off again after theirs)."""
    if _on.provider is None or _on.statements is None:
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    SQLAlchemyInstrumentor().uninstrument()
    HTTPXClientInstrumentor().uninstrument()
    _on.provider.shutdown()
    _on.statements.shutdown()
    _on.provider = _on.statements = _on.tracer = None


@contextmanager
def tracing_into(processor: SpanProcessor) -> Iterator[TracerProvider]:
    """Tracing on for a block (a test, a benchmark's round), then off again."""
    provider = enable_tracing(processor)
    try:
        yield provider
    finally:
        disable_tracing()


def tracer_provider() -> TracerProvider | None:
    """The provider traces go to, None when tracing is off."""
    return _on.provider


def traced(event: CloudEvent[E]) -> CloudEvent[E]:
    """The event carrying the current trace context (when tracing is on and a span is active)."""
    if _on.tracer is None:
        return event
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    if "traceparent" not in carrier:
        return event
    return event.model_copy(
        update={"traceparent": carrier["traceparent"], "tracestate": carrier.get("tracestate")}
    )


def publish_traced(
    publish: Callable[..., Awaitable[T]],
    message: bytes,
    subject: str,
    *,
    headers: dict[str, str],
    **options: Any,
) -> Awaitable[T]:
    """`publish(message, subject, headers=..., **options)`, in a producer span whose parent is the
    context recorded with the event, which its `traceparent` header then names.

    An event recorded without a context (tracing was off) is published as it is: adding a header now
    could take it past the size its commit checked.
    """
    if _on.tracer is None or "traceparent" not in headers:
        return publish(message, subject, headers=headers, **options)
    return _publish_in_span(_on.tracer, publish, message, subject, headers, options)


async def _publish_in_span(
    tracer: Tracer,
    publish: Callable[..., Awaitable[T]],
    message: bytes,
    subject: str,
    headers: dict[str, str],
    options: dict[str, Any],
) -> T:
    attributes = _messaging_attributes(subject, headers.get("Nats-Msg-Id", ""), "send")
    with tracer.start_as_current_span(
        f"send {subject}", context=_PROPAGATOR.extract(headers), kind=SpanKind.PRODUCER, attributes=attributes
    ):
        sent: MutableMapping[str, str] = dict(headers)
        _PROPAGATOR.inject(sent)
        return await publish(message, subject, headers=sent, **options)


@contextmanager
def consuming(event: CloudEvent[Any], consumer: str) -> Iterator[None]:
    """A consumer span around one event's handling, child of the context the event carries; an event
    without one (from a producer that does not trace) starts a trace of its own."""
    if _on.tracer is None:
        yield
        return
    carrier = {"traceparent": event.traceparent or "", "tracestate": event.tracestate or ""}
    parent = _PROPAGATOR.extract(carrier) if event.traceparent else Context()
    attributes = {
        **_messaging_attributes(event.data.subject, event.id, "process"),
        "messaging.consumer.group.name": consumer,
        "cloudevents.event_type": event.type,
    }
    with _on.tracer.start_as_current_span(
        f"process {event.data.subject}", context=parent, kind=SpanKind.CONSUMER, attributes=attributes
    ):
        yield


def _messaging_attributes(subject: str, message_id: str, operation: str) -> dict[str, str]:
    return {
        "messaging.system": "nats",
        "messaging.destination.name": subject,
        "messaging.message.id": message_id,
        "messaging.operation.type": operation,
    }


def add_trace_ids(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the active span's `trace_id` and `span_id` on every log line."""
    if _on.tracer is not None:
        context = get_current_span().get_span_context()
        if context.is_valid:
            event_dict["trace_id"] = format(context.trace_id, "032x")
            event_dict["span_id"] = format(context.span_id, "016x")
    return event_dict
