"""RFC 9457 problem+json for every error the HTTP API returns."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from passerelle.rules import IllegalTransition, InvalidField, RuleBroken

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An error to show the caller: status, a short title and a clear detail."""

    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


def not_found(what: str, identifier: str) -> Problem:
    return Problem(404, "Not Found", f"{what} {identifier} does not exist")


def forbidden(detail: str) -> Problem:
    return Problem(403, "Forbidden", detail)


def conflict(detail: str) -> Problem:
    return Problem(409, "Conflict", detail)


def invalid(field: str, message: str) -> Problem:
    return Problem(
        422, "Unprocessable Content", f"{field}: {message}", errors=[{"field": field, "message": message}]
    )


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.url.path,
        **problem.extra,
    }
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM_JSON)


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(request: Request, problem: Problem) -> JSONResponse:
        return problem_response(request, problem)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_name(tuple(item["loc"])), "message": item["msg"]} for item in error.errors()
        ]
        detail = "; ".join(f"{item['field']}: {item['message']}" for item in errors)
        return problem_response(request, Problem(422, "Unprocessable Content", detail, errors=errors))

    @app.exception_handler(RuleBroken)
    async def on_rule_broken(request: Request, error: RuleBroken) -> JSONResponse:
        if isinstance(error, InvalidField):
            return problem_response(request, invalid(error.field, error.message))
        return problem_response(request, Problem(422, "Unprocessable Content", str(error)))

    @app.exception_handler(IllegalTransition)
    async def on_illegal_transition(request: Request, error: IllegalTransition) -> JSONResponse:
        return problem_response(request, conflict(str(error)))

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, error: HTTPException) -> JSONResponse:
        return problem_response(request, Problem(error.status_code, str(error.detail), str(error.detail)))
