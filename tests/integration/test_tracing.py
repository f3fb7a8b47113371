"""Tracing on the real servers: one trace follows an offer from the request to the stored notification."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from passerelle.contracts import MatchProposed, MemberRegistered, SkillOffered
from passerelle.messaging.tracing import tracer_provider, tracing_into

from ..harness import Databases, Platform, eventually, settings_for, start_platform
from ..receivers import WebhookReceiver
from .scenario import offer, profile, publish, published_project, territory


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    with tracing_into(SimpleSpanProcessor(exporter)):
        yield exporter


@pytest.fixture
async def traced(
    spans: InMemorySpanExporter, clean_nats: str, databases: Databases, tmp_path: Path
) -> AsyncIterator[Platform]:
    """The platform, started once tracing is on (its database engines are instrumented when made)."""
    running = await start_platform(settings_for(clean_nats, mail_dir=tmp_path / "mail"), databases)
    try:
        yield running
    finally:
        await running.stop()


def attribute(span: ReadableSpan, name: str) -> Any:
    return (span.attributes or {}).get(name)


def consumers_of(spans: list[ReadableSpan]) -> set[str]:
    return {attribute(s, "messaging.consumer.group.name") for s in spans if s.kind is SpanKind.CONSUMER}


async def test_one_trace_follows_an_offer_from_the_request_through_matching_to_the_stored_notification(
    traced: Platform, spans: InMemorySpanExporter
) -> None:
    tafraout = await territory(traced)
    await traced.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", tafraout))
    await traced.call("POST", "/members", "amina", expect=201, json=profile("Amina", tafraout))
    await published_project(traced, "amina", tafraout, "energy.solar_pv_design")
    await offer(traced, "fatima", "energy.solar_pv_design")

    [request] = [
        s
        for s in spans.get_finished_spans()
        if s.kind is SpanKind.SERVER and attribute(s, "http.route") == "/members/{member_id}/offers"
    ]
    assert request.context is not None
    trace_id = request.context.trace_id

    def in_the_trace() -> list[ReadableSpan]:
        return [s for s in spans.get_finished_spans() if s.context and s.context.trace_id == trace_id]

    async def notification_stored() -> list[ReadableSpan]:
        """The whole trace, once notifications' consumer span (which ends after its commit) is there."""
        trace = in_the_trace()
        stored = [
            s
            for s in trace
            if s.kind is SpanKind.CLIENT and "INSERT INTO notifications" in str(attribute(s, "db.statement"))
        ]
        return trace if stored and "notifications__MatchProposed_v1" in consumers_of(trace) else []

    trace = await eventually(notification_stored)
    assert "matching__SkillOffered_v1" in consumers_of(trace)
    published = {attribute(s, "messaging.destination.name") for s in trace if s.kind is SpanKind.PRODUCER}
    assert {SkillOffered.subject, MatchProposed.subject} <= published
    databases = {str(attribute(s, "db.name")) for s in trace if attribute(s, "db.system")}
    assert {name.rsplit("_", 1)[1] for name in databases} >= {"members", "matching", "notifications"}
    # Statements outside any trace (the relay's and the dispatcher's polling) make no trace of their own.
    assert all(s.parent for s in spans.get_finished_spans() if attribute(s, "db.system"))
    # Each hop is the child of the one before it: the consumer spans hang from spans of this trace.
    ids = {s.context.span_id for s in trace if s.context}
    assert all(s.parent and s.parent.span_id in ids for s in trace if s.kind is SpanKind.CONSUMER)

    # The event itself carries the context it was recorded in, for any consumer to continue.
    [offered] = await traced.published("MEMBERS", "SkillOffered")
    assert offered["traceparent"].split("-")[1] == format(trace_id, "032x")

    # Probes are not traced: they would be most of the traces and tell nothing of a user's action.
    assert (await traced.http.get("/healthz")).status_code == 200
    assert not [s for s in spans.get_finished_spans() if attribute(s, "http.route") == "/healthz"]


async def test_an_event_from_a_producer_that_does_not_trace_starts_a_trace_of_its_own_and_is_handled(
    traced: Platform, spans: InMemorySpanExporter
) -> None:
    tafraout = await territory(traced)
    event_id = await publish(traced, MemberRegistered(member_id="untraced", **profile("Untraced", tafraout)))
    await eventually(lambda: traced.drained("MEMBERS", "matching__MemberRegistered_v1"))

    async def handled() -> list[ReadableSpan]:
        return [
            s
            for s in spans.get_finished_spans()
            if s.kind is SpanKind.CONSUMER
            and attribute(s, "messaging.message.id") == event_id
            and attribute(s, "messaging.consumer.group.name") == "matching__MemberRegistered_v1"
        ]

    [consumed] = await eventually(handled)
    assert consumed.parent is None
    assert consumed.status.status_code is not StatusCode.ERROR


async def test_an_outgoing_http_call_is_a_client_span_whose_context_the_receiver_gets(
    spans: InMemorySpanExporter,
) -> None:
    """What webhooks and the portal's calls do: httpx, instrumented while tracing is on."""
    receiver = WebhookReceiver()
    await receiver.start()
    try:
        provider = tracer_provider()
        assert provider is not None
        with provider.get_tracer("test").start_as_current_span("dispatch") as dispatch:
            async with httpx.AsyncClient() as client:
                await client.post(receiver.url, content=b"{}")
    finally:
        await receiver.stop()
    [call] = [s for s in spans.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert call.parent is not None and call.parent.span_id == dispatch.get_span_context().span_id
    assert call.context is not None
    [received] = receiver.requests
    assert received.headers["traceparent"].split("-")[1:3] == [
        format(call.context.trace_id, "032x"),
        format(call.context.span_id, "016x"),
    ]
