"""Pages of a list: `limit` and `offset` in the query; the body stays a plain JSON list, and the
headers say how many there are in all (`X-Total-Count`) and where the next page is (`Link`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

Limit = Annotated[int, Query(ge=1, le=100, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="How many to skip")]


def describe_page(
    request: Request, response: Response, *, total: int, limit: int, offset: int, shown: int
) -> None:
    response.headers["X-Total-Count"] = str(total)
    if offset + shown < total:
        following = request.url.include_query_params(limit=limit, offset=offset + shown)
        response.headers["Link"] = f'<{following}>; rel="next"'
