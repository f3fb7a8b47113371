"""The event catalogue for other teams, written from the registry and the models (`make schemas`
writes it to docs/events.md), so that it lists every event that exists and nothing else."""

from __future__ import annotations

from typing import Any

from .envelope import CONTENT_TYPE, EventData
from .registry import DLQ_STREAM, EVENTS, STREAMS, stream_of
from .types import ONE_LINE_PATTERN

COMMAND = "make schemas"

INTRODUCTION = f"""# Event catalogue

Generated from the registry by `{COMMAND}` (`passerelle contracts catalogue`): do not edit by hand.
How to read these events from zero, with two runnable examples, is in [consumers.md](consumers.md).

## What every event is

A CloudEvents 1.0 JSON object (structured mode): `specversion` `1.0`, `id` (unique per event, at most
64 characters), `source` (`passerelle/<service>`), `type` (`passerelle.<service>.<Event>.v<N>`),
`subject` (the id of the aggregate it is about), `time` (RFC 3339, UTC), `datacontenttype`
`application/json`, `dataschema` (the URI of its JSON Schema, pointing at `data`), `correlationid`
(extension: shared by every event of one user action) and `data`. NATS headers: `Nats-Msg-Id: <id>`
and `content-type: {CONTENT_TYPE}`. Each JSON Schema, with one example, ships in the
`passerelle-contracts` distribution (`passerelle/contracts/schemas/<type>.json`).

## Guarantees

- **At least once.** An event may arrive more than once, and the same `id` is the same event: keep
  the ids you handled in the same transaction as their effect and skip a repeat.
- **Order within a stream, not across streams.** A service publishes its events in commit order
  into its own stream; events of two streams arrive in any order (a match may come before the
  project it names): wait and retry, or keep the newest fact.
- **Retention.** Streams keep events for `PASSERELLE_STREAM_MAX_AGE` seconds (30 days in the prod
  overlay; unlimited by default): a consumer away for longer misses what expired. Duplicates of
  one `id` are dropped by JetStream within `PASSERELLE_DUPLICATE_WINDOW` (two hours).
- **Tolerant reader.** Ignore fields you do not know: new optional fields come without notice, a
  breaking change comes as a new `.v2` type and subject beside `.v1`.
- **Your duty: erase on MemberErased.** Events carry personal data. On
  `members.member_erased.v1` a consumer deletes or anonymises everything it keeps on that
  `member_id`, as every Passerelle service does.

## How to start a consumer

Ask the operator for a NATS user: they declare your name and the event types you read in
`PASSERELLE_NATS_CONSUMERS_FILE` and regenerate the authorization (`passerelle nats auth-config`).
Connect with `inbox_prefix="_INBOX_<name>"`, and create one durable pull consumer per event type,
named `<name>__<Event>_v<N>` and filtered on its subject, on the stream below; fetch, handle,
acknowledge after your commit.
"""


def render_catalogue() -> str:
    parts = [INTRODUCTION, "## Streams\n", "| stream | subjects | owner | events |", "|---|---|---|---|"]
    for stream in STREAMS:
        names = ", ".join(f"[{e.event_name}](#{_anchor(e)})" for e in _in(stream.name))
        what = names or ("letters of Passerelle's own consumers" if stream.name == DLQ_STREAM else "none yet")
        subjects = ", ".join(f"`{subject}`" for subject in stream.subjects)
        parts.append(f"| {stream.name} | {subjects} | {stream.owner} | {what} |")
    parts.append("")
    for event in EVENTS:
        parts.append(_event_section(event))
    return "\n".join(parts)


def _anchor(event: type[EventData]) -> str:
    return event.type_name().replace(".", "").lower()  # the anchor of its heading


def _in(stream: str) -> list[type[EventData]]:
    return [event for event in EVENTS if stream_of(event).name == stream]


def _event_section(event: type[EventData]) -> str:
    schema = event.model_json_schema()
    lines = [
        f"## {event.type_name()}",
        "",
        f"**{event.event_name}** on `{event.subject}`, stream {stream_of(event).name}. "
        + (event.__doc__ or "").strip().replace("\n", " "),
        "",
        "| field | type | required | meaning |",
        "|---|---|---|---|",
    ]
    required = set(schema.get("required", []))
    for name, field in schema.get("properties", {}).items():
        meaning = field.get("description", "").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{name}` | {_type(field)} | {'yes' if name in required else 'no'} | {meaning} |")
    for name, definition in schema.get("$defs", {}).items():
        properties = definition.get("properties", {}).items()
        fields = ", ".join(f"`{field}` {_type(sub)}" for field, sub in properties)
        lines.append(f"\n`{name}`: {fields}.")
    return "\n".join(lines) + "\n"


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[1]}`"
    if "anyOf" in schema:
        kinds = [_type(sub) for sub in schema["anyOf"] if sub.get("type") != "null"]
        nullable = any(sub.get("type") == "null" for sub in schema["anyOf"])
        return " or ".join(kinds) + (" or null" if nullable else "")
    if "enum" in schema:
        return " \\| ".join(f"`{value}`" for value in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    pattern = schema.get("pattern")
    shown = "one line" if pattern == ONE_LINE_PATTERN else pattern and f"`{pattern}`"
    detail = schema.get("format") or shown
    return f"{kind} ({detail})".replace("|", "\\|") if detail else kind
