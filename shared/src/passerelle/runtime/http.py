"""The HTTP application: the services' routes plus health, readiness, metrics and AsyncAPI."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from faststream.specification import AsyncAPI
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from passerelle.contracts import correlation_id

from .auth import Authenticator
from .problems import install_problem_handlers, not_found
from .service import ServiceApp


def build_http_app(services: Sequence[ServiceApp], authenticator: Authenticator) -> FastAPI:
    names = ", ".join(service.name for service in services)
    app = FastAPI(
        title="Passerelle",
        version="1.0.0",
        description=f"Communities for Shared Development: {names}. Errors are RFC 9457 problem+json.",
    )
    app.state.authenticator = authenticator
    app.state.services = {service.name: service for service in services}
    install_problem_handlers(app)
    app.middleware("http")(_correlate)
    for service in services:
        app.include_router(service.router)

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    async def readyz() -> JSONResponse:
        """Every service reaches NATS and its database."""
        checks = {service.name: await service.readiness() for service in services}
        ready = all(value == "ok" for check in checks.values() for value in check.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
        )

    @app.get("/metrics", tags=["operations"])
    async def metrics() -> Response:
        """Prometheus text exposition."""
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    @app.get("/asyncapi.json", tags=["operations"])
    async def asyncapi_all() -> Any:
        """The AsyncAPI document of the events served here."""
        spec = AsyncAPI(*(service.broker for service in services), title="Passerelle", version="1.0.0")
        return spec.to_specification().to_jsonable()

    @app.get("/asyncapi/{service_name}.json", tags=["operations"])
    async def asyncapi_one(service_name: str) -> Any:
        """The AsyncAPI document of one service."""
        if service_name not in app.state.services:
            raise not_found("service", service_name)
        return app.state.services[service_name].asyncapi()

    return app


async def _correlate(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Every request gets a correlation id (the caller's X-Correlation-Id, or a new one)."""
    value = request.headers.get("x-correlation-id") or str(uuid.uuid4())
    token = correlation_id.set(value)
    try:
        with structlog.contextvars.bound_contextvars(correlation_id=value):
            response = await call_next(request)
    finally:
        correlation_id.reset(token)
    response.headers["X-Correlation-Id"] = value
    return response
