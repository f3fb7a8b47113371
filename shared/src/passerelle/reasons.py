"""Match reasons (the machine codes of MatchProposed, e.g. `bond_origin`, `language:fr`) as words in
English, French or Arabic: every service and client phrases them the same way."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

FALLBACK = "en"


@cache
def _phrases() -> dict[str, Any]:
    return dict(json.loads(files("passerelle").joinpath("reasons.json").read_text(encoding="utf-8")))


def languages() -> frozenset[str]:
    return frozenset(_phrases())


def explain(reasons: list[str] | tuple[str, ...], language: str) -> str:
    """The codes as one sentence in `language` (a BCP 47 tag; English when we lack it); codes we
    cannot phrase are left out."""
    primary = language.split("-", maxsplit=1)[0].lower()
    phrases = _phrases().get(primary) or _phrases()[FALLBACK]
    sentences = []
    for code in reasons:
        name, _, value = code.partition(":")
        if name in phrases:
            sentences.append(phrases[name].format(value=value))
    return str(phrases["separator"]).join(sentences)
