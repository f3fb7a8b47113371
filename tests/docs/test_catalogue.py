"""The event catalogue in the repository is the one the registry gives today."""

from __future__ import annotations

from pathlib import Path

from passerelle.contracts import EVENTS, STREAMS
from passerelle.contracts.catalogue import COMMAND, render_catalogue

CATALOGUE = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def test_the_committed_catalogue_is_the_one_generated_from_the_registry() -> None:
    assert CATALOGUE.read_text(encoding="utf-8") == render_catalogue(), (
        f"docs/events.md is not what the registry gives: run `{COMMAND}` and commit docs/events.md"
    )


def test_the_catalogue_names_every_event_and_stream_with_the_guarantees_and_the_erasure_duty() -> None:
    text = render_catalogue()
    assert all(f"## {event.type_name()}" in text and f"`{event.subject}`" in text for event in EVENTS)
    assert all(f"| {stream.name} |" in text for stream in STREAMS)
    promises = ("At least once", "Order within a stream, not across streams", "Retention", "MemberErased")
    assert all(promise in text for promise in promises)
