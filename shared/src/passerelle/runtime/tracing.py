"""HTTP server spans (OpenTelemetry's FastAPI instrumentation) when tracing is on
(`passerelle.messaging.tracing` holds the rest and says how a trace crosses services)."""

import os

from fastapi import FastAPI

from passerelle.messaging.tracing import tracer_provider

# Probes and scrapes would be most of the traces and tell nothing about a user's action.
_UNTRACED_URLS = "/healthz,/readyz,/metrics"


def trace_requests(app: FastAPI) -> None:
    """A server span per request, continuing the caller's `traceparent` if it sends one."""
    provider = tracer_provider()
    if provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # The instrumentation reads this variable only when given no URLs of ours: both apply.
    more = os.environ.get("OTEL_PYTHON_FASTAPI_EXCLUDED_URLS")
    excluded = f"{_UNTRACED_URLS},{more}" if more else _UNTRACED_URLS
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls=excluded)
