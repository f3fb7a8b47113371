"""RFC 9457 problem+json for every error the HTTP API returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException

from passerelle.contracts import correlation_id
from passerelle.errors import Conflict, Forbidden, IllegalTransition, InvalidField, NotFound, RuleBroken
from passerelle.persistence.database import refused_by_database

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
# An error answer names what was wrong, never echoes the input back in full: a caller's 12 MB body
# must not become a larger answer.
EXCERPT_CHARACTERS = 120
MAX_ERRORS_SHOWN = 20

# PostgreSQL's SQLSTATE codes of what a caller's input can cause (besides class 22, refused_by_database).
_UNIQUE_VIOLATION = "23505"
_FOREIGN_KEY_VIOLATION = "23503"


def excerpt(text: str, limit: int = EXCERPT_CHARACTERS) -> str:
    """At most `limit` characters of a text that may hold the caller's input, always encodable."""
    shortened = text if len(text) <= limit else f"{text[: limit - 1]}…"
    return shortened.encode("utf-8", "replace").decode("utf-8")


class Problem(Exception):
    """An error to show the caller: status, a short title and a clear detail."""

    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


def invalid(field: str, message: str) -> Problem:
    return Problem(
        422, "Unprocessable Content", f"{field}: {message}", errors=[{"field": field, "message": message}]
    )


def problem_body(status: int, title: str, detail: str, instance: str, **extra: Any) -> dict[str, Any]:
    """The problem document; `correlation_id` is the request's (also its X-Correlation-Id header),
    the key to its log lines."""
    found = correlation_id.get()
    return {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": excerpt(detail, 10 * EXCERPT_CHARACTERS),
        "instance": excerpt(instance),
        **({"correlation_id": found} if found else {}),
        **extra,
    }


# RFC 6750: a 401 says which scheme would be accepted.
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    body = problem_body(problem.status, problem.title, problem.detail, request.url.path, **problem.extra)
    headers = CHALLENGE if problem.status == 401 else None
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path")]
    return excerpt(".".join(parts) or "body")


def _database_problem(error: DBAPIError) -> Problem | None:
    """What a caller's input made the database refuse; None for a failure of the server itself.

    The unit of work rolls back as the error leaves it, so nothing of the request is committed."""
    code = str(getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None) or "")
    if code == _UNIQUE_VIOLATION:
        return Problem(409, "Conflict", "it already exists (another request created it at the same time)")
    if code == _FOREIGN_KEY_VIOLATION:
        return Problem(
            409, "Conflict", "it refers to something that does not exist, or something still refers to it"
        )
    if refused_by_database(error):
        return Problem(
            422, "Unprocessable Content", "a value is too long, out of range or cannot be stored as text"
        )
    return None


# The plain errors use cases raise (passerelle.errors), and the answer each gets.
_STATUS_OF: dict[type[Exception], tuple[int, str]] = {
    IllegalTransition: (409, "Conflict"),
    Conflict: (409, "Conflict"),
    NotFound: (404, "Not Found"),
    Forbidden: (403, "Forbidden"),
}


def _answer_with(status: int, title: str) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def answer(request: Request, error: Exception) -> JSONResponse:
        return problem_response(request, Problem(status, title, str(error)))

    return answer


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(request: Request, problem: Problem) -> JSONResponse:
        return problem_response(request, problem)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        found = error.errors()
        errors = [
            {"field": _field_name(tuple(item["loc"])), "message": excerpt(item["msg"])}
            for item in found[:MAX_ERRORS_SHOWN]
        ]
        detail = "; ".join(f"{item['field']}: {item['message']}" for item in errors)
        if len(found) > MAX_ERRORS_SHOWN:
            detail += f"; and {len(found) - MAX_ERRORS_SHOWN} more errors"
        return problem_response(request, Problem(422, "Unprocessable Content", detail, errors=errors))

    @app.exception_handler(DBAPIError)
    async def on_database_error(request: Request, error: DBAPIError) -> JSONResponse:
        problem = _database_problem(error)
        if problem is None:
            log.error("http.database_error", path=request.url.path, error=excerpt(str(error.orig)))
            problem = Problem(500, "Internal Server Error", "the request could not be completed")
        return problem_response(request, problem)

    @app.exception_handler(RuleBroken)
    async def on_rule_broken(request: Request, error: RuleBroken) -> JSONResponse:
        if isinstance(error, InvalidField):
            return problem_response(request, invalid(error.field, error.message))
        return problem_response(request, Problem(422, "Unprocessable Content", str(error)))

    for error_type, (status, title) in _STATUS_OF.items():
        app.add_exception_handler(error_type, _answer_with(status, title))

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, error: HTTPException) -> JSONResponse:
        return problem_response(
            request, Problem(error.status_code, excerpt(str(error.detail)), str(error.detail))
        )
