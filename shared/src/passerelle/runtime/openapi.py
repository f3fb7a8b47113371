"""An OpenAPI document that tells the truth, for every route of every service, without the routes
doing anything: readable operation ids, the problem+json answers each route can give (instead of
FastAPI's validation error schema, which no route returns), and the paging headers of lists.

Which answers a route can give is read from what it is: a route that needs a token can answer 401
and 403, one with a path parameter 404, one that changes something 409, one that takes input 422,
and every route 500.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from .problems import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "about:blank"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What was wrong, naming the fields"},
        "instance": {"type": "string", "description": "The path of the request"},
        "correlation_id": {"type": "string", "description": "Also the X-Correlation-Id header; in the logs"},
        "errors": {
            "type": "array",
            "description": "One per field refused (at most 20)",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
ANSWERS = {
    401: "No valid bearer token (the answer carries WWW-Authenticate: Bearer)",
    403: "The identity may not act on this object",
    404: "No such object, or not one this identity may see",
    409: "The object's state does not allow it, or it already exists",
    413: "The request body is larger than PASSERELLE_MAX_REQUEST_BYTES",
    422: "The input is invalid; nothing was changed",
    500: "An unexpected error; logged with the correlation id, nothing internal shown",
}
PAGE_HEADERS = {
    "X-Total-Count": {"description": "How many match in all", "schema": {"type": "integer"}},
    "Link": {
        "description": 'The next page, `<url>; rel="next"`, while there is one',
        "schema": {"type": "string"},
    },
}
CHANGES = {"post", "put", "patch", "delete"}


def operation_id(summary: str) -> str:
    """`registerMember`, `readProject`...: the summary FastAPI makes of the function's name, in camel
    case."""
    first, *rest = re.findall(r"[A-Za-z0-9]+", summary) or ["operation"]
    return first.lower() + "".join(word.capitalize() for word in rest)


def expected_answers(method: str, path: str, operation: dict[str, Any]) -> list[int]:
    answers = []
    if operation.get("security"):
        answers += [401, 403]
    if "{" in path:
        answers.append(404)
    if method in CHANGES:
        answers.append(409)
    if method in CHANGES and "requestBody" in operation:
        answers.append(413)
    if operation.get("parameters") or "requestBody" in operation:
        answers.append(422)
    return [*answers, 500]


def is_paged(operation: dict[str, Any]) -> bool:
    names = {parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "query"}
    return {"limit", "offset"} <= names


def honest_openapi(app: FastAPI) -> None:
    """Replace the app's OpenAPI generation by the document above (built once, at the first call)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = PROBLEM_SCHEMA
    seen: dict[str, int] = {}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            # Unique in the whole app: several services share one under `up`.
            name = operation_id(operation.get("summary", ""))
            seen[name] = seen.get(name, 0) + 1
            operation["operationId"] = name if seen[name] == 1 else f"{name}{seen[name]}"
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # FastAPI's default, a shape no route returns
            for status in expected_answers(method, path, operation):
                responses[str(status)] = {
                    "description": ANSWERS[status],
                    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
            if is_paged(operation):
                for answer in (responses[code] for code in responses if code.startswith("2")):
                    answer["headers"] = PAGE_HEADERS
    return document
