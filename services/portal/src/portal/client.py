"""The public HTTP APIs, called with the signed-in person's token: the portal's only way to read and
change anything (it opens no service's database)."""

from __future__ import annotations

from typing import Any

import httpx


class ApiError(Exception):
    """An API refused: its status, its problem's detail and the fields it named (`field`, `message`)."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(f"{status}: {detail}")
        self.status, self.detail, self.errors = status, detail, errors or []

    def field_errors(self) -> dict[str, str]:
        return {error["field"]: error["message"] for error in self.errors if "field" in error}


class Api:
    """One visit's calls: `client` reaches every service (`base(service)` gives each one's URL)."""

    def __init__(self, client: httpx.AsyncClient, bases: dict[str, str], default: str, token: str | None):
        self._client, self._bases, self._default = client, bases, default
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
    ) -> Any:
        headers = dict(self._headers)
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        url = self._bases.get(service, self._default).rstrip("/") + path
        clean = {name: value for name, value in (params or {}).items() if value not in (None, "")}
        response = await self._client.request(method, url, params=clean, json=json, headers=headers)
        if response.is_error:
            raise _refusal(response)
        return response.json() if response.content else None

    async def get(self, service: str, path: str, **params: Any) -> Any:
        return await self.call(service, "GET", path, params=params)


def _refusal(response: httpx.Response) -> ApiError:
    try:
        problem = response.json()
    except ValueError:
        return ApiError(response.status_code, response.text[:200])
    if not isinstance(problem, dict):
        return ApiError(response.status_code, str(problem)[:200])
    return ApiError(response.status_code, str(problem.get("detail", "")), problem.get("errors") or [])
