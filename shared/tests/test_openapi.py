"""Every route of every installed service, as its OpenAPI document tells it: readable operation ids,
the problem+json answers it can give, the paging headers of lists; and the answers keep the promise."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from passerelle.runtime.auth import Authenticator
from passerelle.runtime.http import build_http_app
from passerelle.runtime.service import load_services
from passerelle.settings import PlatformSettings

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


@pytest.fixture(scope="module")
def app() -> FastAPI:
    settings = PlatformSettings(jwt_secret="unit-test-secret-of-32-bytes-or-more!")  # type: ignore[arg-type]
    # Nothing connects while the document is built: the database URL is never used.
    services = [d.build(settings, "postgresql+asyncpg://u:p@127.0.0.1:1/none") for d in load_services()]
    return build_http_app(services, Authenticator(settings), settings)


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    document = app.openapi()
    return [(method, path, op) for path, ops in document["paths"].items() for method, op in ops.items()]


def test_operation_ids_are_readable_and_unique(app: FastAPI) -> None:
    ids = [op["operationId"] for _, _, op in operations(app)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][A-Za-z0-9]*", name) for name in ids), ids
    assert "registerMember" in ids and "createProject" in ids


def test_every_route_documents_its_problem_answers_with_the_problem_schema(app: FastAPI) -> None:
    document = app.openapi()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert "Problem" in document["components"]["schemas"]
    for method, path, op in operations(app):
        answers = op["responses"]
        where = f"{method.upper()} {path}"
        assert answers["500"]["content"] == PROBLEM, where
        for status, answer in answers.items():
            if status.startswith(("4", "5")):
                assert answer["content"] == PROBLEM, f"{where} {status}"
        if op.get("security"):
            assert {"401", "403"} <= set(answers), where
        if "{" in path:
            assert "404" in answers, where
        if method in ("post", "put", "patch", "delete"):
            assert {"409", "422"} <= set(answers), where


def test_every_paged_list_documents_x_total_count_and_link(app: FastAPI) -> None:
    paged = [
        (path, op)
        for method, path, op in operations(app)
        if {"limit", "offset"} <= {p["name"] for p in op.get("parameters", [])}
    ]
    assert paged, "some lists are paged"
    for path, op in paged:
        assert {"X-Total-Count", "Link"} <= set(op["responses"]["200"].get("headers", {})), path


async def test_a_401_says_bearer_in_www_authenticate_and_is_a_problem(app: FastAPI) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://unit.test") as http:
        response = await http.get("/members")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["correlation_id"] == response.headers["x-correlation-id"]
