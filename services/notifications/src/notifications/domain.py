"""Message texts in the member's language, from the templates beside this module."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).parent / "templates"
FALLBACK = "en"


@cache
def _load(name: str) -> dict[str, Any]:
    return json.loads((TEMPLATES / name).read_text(encoding="utf-8"))


def language_of(locale: str) -> str:
    """`ar-MA` -> `ar` when we have Arabic texts; anything we lack falls back to English."""
    language = locale.split("-", maxsplit=1)[0].lower()
    return language if language in _load("reasons.json") else FALLBACK


def explain(reasons: list[str], language: str) -> str:
    """Machine reason codes as a sentence; codes we cannot phrase are left out."""
    phrases = _load("reasons.json")[language]
    sentences = []
    for code in reasons:
        name, _, value = code.partition(":")
        if name in phrases:
            sentences.append(phrases[name].format(value=value))
    return str(phrases["separator"]).join(sentences)


@dataclass(frozen=True)
class Message:
    kind: str
    language: str
    title: str
    body: str


def render(kind: str, locale: str, values: dict[str, str]) -> Message:
    language = language_of(locale)
    texts = _load("messages.json")[kind]
    template = texts.get(language) or texts[FALLBACK]
    return Message(kind, language, template["title"].format(**values), template["body"].format(**values))
