"""The HTTP application: the services' routes plus health, readiness, metrics and AsyncAPI."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from passerelle.errors import NotFound
from passerelle.settings import PlatformSettings

from .asgi import BodyLimit, Correlation, TextGuard, UnexpectedErrors
from .asyncapi import asyncapi_document
from .auth import Authenticator
from .idempotency import IdempotentRequests
from .openapi import honest_openapi
from .problems import Problem, install_problem_handlers
from .request_metrics import RequestMetrics
from .service import ServiceApp

_metrics_bearer = HTTPBearer(auto_error=False, description="PASSERELLE_METRICS_TOKEN, when it is set")


def build_http_app(
    services: Sequence[ServiceApp], authenticator: Authenticator, settings: PlatformSettings | None = None
) -> FastAPI:
    """`settings` default to the first service's (under `up` they all share them)."""
    settings = settings or services[0].settings
    names = ", ".join(service.name for service in services)
    app = FastAPI(
        title="Passerelle",
        version="1.0.0",
        description=f"Communities for Shared Development: {names}. Errors are RFC 9457 problem+json.",
    )
    app.state.authenticator = authenticator
    app.state.services = {service.name: service for service in services}
    harden(app, settings)
    metrics_token = settings.metrics_token.get_secret_value().encode() if settings.metrics_token else None
    for service in services:
        app.include_router(service.router)
    honest_openapi(app)

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
    async def metrics(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_metrics_bearer)],
    ) -> Response:
        """Prometheus text exposition; with PASSERELLE_METRICS_TOKEN set, only for that bearer token."""
        if metrics_token is not None:
            given = credentials.credentials.encode() if credentials else b""
            if not hmac.compare_digest(given, metrics_token):
                raise Problem(401, "Unauthorized", "send Authorization: Bearer <PASSERELLE_METRICS_TOKEN>")
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    @app.get("/asyncapi.json", tags=["operations"])
    async def asyncapi_all() -> Any:
        """The AsyncAPI document of the events served here."""
        return asyncapi_document(services, "Passerelle")

    @app.get("/asyncapi/{service_name}.json", tags=["operations"])
    async def asyncapi_one(service_name: str) -> Any:
        """The AsyncAPI document of one service."""
        if service_name not in app.state.services:
            raise NotFound("service", service_name)
        return asyncapi_document([app.state.services[service_name]], f"Passerelle {service_name}")

    return app


def harden(app: FastAPI, settings: PlatformSettings) -> None:
    """Errors as problem+json, and the guards every request passes before any route."""
    install_problem_handlers(app)
    # Added innermost first: a request meets ProxyHeaders, Correlation, RequestMetrics,
    # UnexpectedErrors, TextGuard, BodyLimit,
    # IdempotentRequests.
    app.add_middleware(IdempotentRequests)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(TextGuard)
    app.add_middleware(UnexpectedErrors)
    app.add_middleware(RequestMetrics)  # inside Correlation: its log line carries the correlation id
    app.add_middleware(Correlation)
    # Outermost: behind a TLS proxy the request's own URL (and so each Link header) says https.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
