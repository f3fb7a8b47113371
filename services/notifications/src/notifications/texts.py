"""What messages say, in the member's language, from the templates beside this module.

Texts live in `templates/messages/<language>.json` (one file a language, so a translator edits one
file); e-mails are laid out by `templates/email.*.j2`. Reasons for a match are phrased by
`passerelle.reasons`, shared with the matching service."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
FALLBACK = "en"
RIGHT_TO_LEFT = frozenset({"ar", "fa", "he", "ur"})

Kind = Literal[
    "welcome",
    "match_proposed",
    "match_accepted",
    "match_confirmed",
    "match_withdrawn",
    "project_published",
    "pledge_made",
    "funding_goal_reached",
    "message_posted",
    "match_reminder",
    "match_confirm_reminder",
    "pledge_released",
    "pledge_reminder",
    "pledge_lapsed",
    "pledge_collected",
    "campaign_succeeded",
    "campaign_failed",
    "campaign_extended",
    "project_update",
    "gathering_scheduled",
    "gathering_confirmed",
    "gathering_waitlisted",
    "gathering_promoted",
    "gathering_changed",
    "gathering_cancelled",
    "gathering_reminder",
    "idea_answered",
    "plan_phase_started",
    "opportunity_published",
    "interest_expressed",
    "introduction_made",
    "interest_declined",
    "opportunity_expiring",
]
KINDS: tuple[str, ...] = get_args(Kind)

_layouts = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@cache
def languages() -> frozenset[str]:
    return frozenset(path.stem for path in (TEMPLATES / "messages").glob("*.json"))


@cache
def phrases(language: str) -> dict[str, Any]:
    return json.loads((TEMPLATES / "messages" / f"{language}.json").read_text(encoding="utf-8"))


def language_of(locale: str) -> str:
    """`ar-MA` -> `ar` when we have Arabic texts; anything we lack falls back to English."""
    language = locale.split("-", maxsplit=1)[0].lower()
    return language if language in languages() else FALLBACK


def direction(language: str) -> str:
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


@dataclass(frozen=True)
class Text:
    kind: str
    language: str
    title: str
    body: str


def render(kind: str, language: str, values: dict[str, str]) -> Text:
    template = phrases(language)[kind]
    return Text(kind, language, template["title"].format(**values), template["body"].format(**values))


def plain_error(error: str) -> str:
    """An error as the delivery log and NotificationFailed can hold it, whatever a receiver sent:
    valid UTF-8, no NUL (PostgreSQL refuses it), bounded."""
    return error.encode("utf-8", errors="replace").decode("utf-8").replace("\x00", "")[:2000]


def withdrawn_because(reason: str | None, language: str) -> str:
    because = phrases(language)["withdrawn_because"]
    return str(because.get(reason or "other", because["other"]))


def a_conversation(language: str) -> str:
    return str(phrases(language)["a_conversation"])


def someone(language: str) -> str:
    return str(phrases(language)["someone"])


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str
    language: str


def compose_email(language: str, name: str, items: list[Text], *, digest: bool) -> Email:
    """One e-mail for one notification, or a digest of several, as plain text and HTML."""
    texts = phrases(language)
    intro = texts["digest"]["intro"].format(name=name) if digest else ""
    subject = texts["digest"]["title"].format(count=len(items)) if digest else items[0].title
    values = {
        "language": language,
        "direction": direction(language),
        "title": subject,
        "intro": intro,
        "items": items,
        "footer": texts["footer"],
    }
    return Email(
        subject=subject,
        text=_layouts.get_template("email.txt.j2").render(values),
        html=_layouts.get_template("email.html.j2").render(values),
        language=language,
    )
