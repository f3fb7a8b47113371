"""The reference catalogue of co-financing programmes, shipped like the skill taxonomy: the curated
file in this package, plus an operator's file whose programmes are added (or replace those that
share a code)."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from .domain import Programme


def _programme(data: dict[str, Any]) -> Programme:
    def amount(name: str) -> Decimal | None:
        return Decimal(data[name]) if data.get(name) is not None else None

    return Programme(
        code=data["code"],
        name=data["name"],
        country=data["country"],
        currency=data["currency"],
        sources=tuple(data["sources"]),
        max_share_of_budget=amount("max_share_of_budget"),
        max_amount=amount("max_amount"),
        max_budget=amount("max_budget"),
        url=data.get("url"),
    )


def _read(text: str) -> list[Programme]:
    return [_programme(item) for item in json.loads(text)["programmes"]]


@cache
def load_programmes(extra: Path | None = None) -> dict[str, Programme]:
    """Every programme by code; a broken file fails the start, loudly, rather than a plan later."""
    curated = _read(files("projects.financing").joinpath("programmes.json").read_text(encoding="utf-8"))
    imported = _read(extra.read_text(encoding="utf-8")) if extra else []
    return {programme.code: programme for programme in [*curated, *imported]}
