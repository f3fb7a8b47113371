"""Every HTTP request counted and timed by route template (rate, errors, duration in Prometheus),
and one structured log line for it: method, route, status, duration."""

from __future__ import annotations

import time

import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("passerelle.http")

REQUESTS = Counter("passerelle_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
DURATION = Histogram(
    "passerelle_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
UNMATCHED = "unmatched"  # a path no route serves: one label, whatever the path (no cardinality blow-up)


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the caller gets if nothing is sent

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            route = getattr(scope.get("route"), "path", UNMATCHED)
            seconds = time.perf_counter() - started
            method = scope["method"]
            REQUESTS.labels(method, route, str(status)).inc()
            DURATION.labels(method, route).observe(seconds)
            log.info(
                "http.request",
                method=method,
                route=route,
                status=status,
                duration_ms=round(seconds * 1000, 1),
            )
