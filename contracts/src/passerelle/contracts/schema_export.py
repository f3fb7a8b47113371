"""JSON Schemas of every event envelope, generated into `contracts/schemas/` for other teams
(`make schemas`): draft 2020-12, each with its `$id` and one example event."""

import json
from pathlib import Path
from typing import Any

from .envelope import EventData, envelope_type
from .examples import example_event
from .registry import EVENTS

SCHEMA_DIR = Path(__file__).parent / "schemas"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def event_schema(event: type[EventData]) -> dict[str, Any]:
    """The JSON Schema of one event type's whole envelope."""
    example = json.loads(example_event(event).to_json())
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": event.schema_uri(),
        **envelope_type(event).model_json_schema(),
        "examples": [example],
    }


def event_schemas() -> dict[str, str]:
    """File name -> JSON Schema text of the whole envelope, one per event type."""
    return {
        f"{event.type_name()}.json": json.dumps(event_schema(event), indent=2, sort_keys=True) + "\n"
        for event in EVENTS
    }


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in event_schemas().items():
        path = directory / name
        path.write_text(text)
        written.append(path)
    return written
