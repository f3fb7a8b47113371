"""The trace context in the envelope (CloudEvents distributed-tracing extension) and the tracing hooks."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from jsonschema import Draft202012Validator
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from passerelle.contracts import SkillOffered, envelope, envelope_type
from passerelle.contracts.examples import example_data
from passerelle.contracts.schema_export import SCHEMA_DIR
from passerelle.messaging.tracing import (
    configure_tracing,
    consuming,
    disable_tracing,
    publish_traced,
    traced,
    tracer_provider,
    tracing_into,
)
from passerelle.runtime.logging import configure_logging
from passerelle.settings import PlatformSettings
from pydantic import ValidationError

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    with tracing_into(SimpleSpanProcessor(exporter)):
        yield exporter


def offered(**trace: str) -> Any:
    return envelope(example_data(SkillOffered)).model_copy(update=trace)


def test_the_schema_documents_traceparent_and_tracestate_as_optional_attributes() -> None:
    schema = json.loads((SCHEMA_DIR / f"{SkillOffered.type_name()}.json").read_text())
    assert {"traceparent", "tracestate"} <= set(schema["properties"])
    assert not {"traceparent", "tracestate"} & set(schema["required"])
    event = json.loads(offered(traceparent=TRACEPARENT, tracestate="vendor=1").to_json())
    Draft202012Validator(schema).validate(event)


def test_an_event_keeps_its_trace_context_through_json_and_sends_it_as_headers_too() -> None:
    event = offered(traceparent=TRACEPARENT, tracestate="vendor=1")
    read = envelope_type(SkillOffered).model_validate_json(event.to_json())
    assert (read.traceparent, read.tracestate) == (TRACEPARENT, "vendor=1")
    assert read.nats_headers()["traceparent"] == TRACEPARENT
    assert read.nats_headers()["tracestate"] == "vendor=1"


def test_an_event_from_an_older_producer_without_trace_context_stays_valid() -> None:
    event = offered()
    body = json.loads(event.to_json())
    assert "traceparent" not in body and "tracestate" not in body
    read = envelope_type(SkillOffered).model_validate(body)
    assert read.traceparent is None and "traceparent" not in read.nats_headers()


def test_a_trace_context_of_several_lines_is_refused_since_it_would_break_the_headers() -> None:
    body = json.loads(offered().to_json())
    with pytest.raises(ValidationError):
        envelope_type(SkillOffered).model_validate({**body, "traceparent": f"{TRACEPARENT}\r\nX-Evil: 1"})


def test_with_tracing_off_events_are_recorded_without_a_trace_context() -> None:
    assert traced(offered()).traceparent is None


def test_an_event_recorded_in_a_span_carries_that_span_as_its_parent(spans: InMemorySpanExporter) -> None:
    provider = TracerProvider()
    with provider.get_tracer("test").start_as_current_span("request") as span:
        event = traced(offered())
    context = span.get_span_context()
    assert event.traceparent is not None
    assert event.traceparent.split("-")[1:3] == [f"{context.trace_id:032x}", f"{context.span_id:016x}"]


def test_the_consumer_span_continues_the_events_trace(spans: InMemorySpanExporter) -> None:
    with consuming(offered(traceparent=TRACEPARENT), "matching__SkillOffered_v1"):
        continued = traced(offered())
    [span] = spans.get_finished_spans()
    assert span.kind is SpanKind.CONSUMER and span.context is not None and span.parent is not None
    assert span.context.trace_id == TRACE_ID and span.parent.span_id == 0x00F067AA0BA902B7
    assert continued.traceparent is not None and continued.traceparent.split("-")[1] == f"{TRACE_ID:032x}"


@pytest.mark.parametrize("traceparent", [None, "not a traceparent"])
def test_an_event_without_a_readable_context_starts_a_trace_of_its_own(
    spans: InMemorySpanExporter, traceparent: str | None
) -> None:
    with consuming(offered(traceparent=traceparent), "matching__SkillOffered_v1"):
        pass
    [span] = spans.get_finished_spans()
    assert span.parent is None and span.kind is SpanKind.CONSUMER


class Published:
    def __init__(self) -> None:
        self.headers: dict[str, str] = {}

    async def __call__(self, message: bytes, subject: str, *, headers: dict[str, str], **_: Any) -> None:
        self.headers = headers


async def test_the_relay_publishes_in_a_producer_span_whose_parent_is_the_recorded_context(
    spans: InMemorySpanExporter,
) -> None:
    publish = Published()
    event = offered(traceparent=TRACEPARENT)
    await publish_traced(publish, event.to_json(), SkillOffered.subject, headers=event.nats_headers())
    [span] = spans.get_finished_spans()
    assert span.kind is SpanKind.PRODUCER and span.context is not None and span.parent is not None
    assert span.parent.span_id == 0x00F067AA0BA902B7 and span.context.trace_id == TRACE_ID
    # The header names the producer span, the hop NATS carried the event on.
    sent = publish.headers["traceparent"].split("-")
    assert sent[1:3] == [f"{TRACE_ID:032x}", f"{span.context.span_id:016x}"]


async def test_an_event_recorded_without_a_context_is_published_as_it_is(spans: InMemorySpanExporter) -> None:
    publish = Published()
    event = offered()
    await publish_traced(publish, event.to_json(), SkillOffered.subject, headers=event.nats_headers())
    assert publish.headers == event.nats_headers() and spans.get_finished_spans() == ()


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The JSON log lines a service writes, as the platform configures them."""
    configure_logging("INFO", json=True)
    [handler] = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    written = io.StringIO()
    handler.setStream(written)
    try:
        yield written
    finally:
        configure_logging("WARNING", json=False)


def test_log_lines_carry_the_active_spans_trace_and_span_ids(
    spans: InMemorySpanExporter, json_logs: io.StringIO
) -> None:
    log = structlog.get_logger("test")
    with consuming(offered(traceparent=TRACEPARENT), "matching__SkillOffered_v1"):
        log.info("inside")
    log.info("outside")
    inside, outside = (json.loads(line) for line in json_logs.getvalue().splitlines())
    [span] = spans.get_finished_spans()
    assert span.context is not None
    assert inside["trace_id"] == f"{TRACE_ID:032x}" and inside["span_id"] == f"{span.context.span_id:016x}"
    assert "trace_id" not in outside


def test_tracing_is_off_unless_the_settings_ask_for_otlp() -> None:
    configure_tracing(PlatformSettings(), "passerelle-members")
    assert tracer_provider() is None
    with pytest.raises(ValidationError):
        PlatformSettings(tracing="jaeger")


def test_with_otlp_the_service_traces_under_its_name_or_otel_service_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PASSERELLE_TRACING", "otlp")
    try:
        configure_tracing(PlatformSettings(), "passerelle-members")
        provider = tracer_provider()
        assert provider is not None and provider.resource.attributes["service.name"] == "passerelle-members"
    finally:
        disable_tracing()
    monkeypatch.setenv("OTEL_SERVICE_NAME", "members-eu")
    try:
        configure_tracing(PlatformSettings(), "passerelle-members")
        provider = tracer_provider()
        assert provider is not None and provider.resource.attributes["service.name"] == "members-eu"
    finally:
        disable_tracing()
