"""Message texts in the member's language, from the templates beside this module.

Reasons are phrased by `passerelle.reasons`, shared with the matching service."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from passerelle.reasons import languages as reason_languages

TEMPLATES = Path(__file__).parent / "templates"
FALLBACK = "en"


@cache
def _load(name: str) -> dict[str, Any]:
    return json.loads((TEMPLATES / name).read_text(encoding="utf-8"))


def language_of(locale: str) -> str:
    """`ar-MA` -> `ar` when we have Arabic texts; anything we lack falls back to English."""
    language = locale.split("-", maxsplit=1)[0].lower()
    return language if language in reason_languages() else FALLBACK


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
