"""JSON Schemas of every event envelope, generated into `contracts/schemas/` for other teams."""

import json
from pathlib import Path

from .envelope import envelope_type
from .registry import EVENTS

SCHEMA_DIR = Path(__file__).parent / "schemas"


def event_schemas() -> dict[str, str]:
    """File name -> JSON Schema text of the whole envelope, one per event type."""
    return {
        f"{event.type_name()}.json": json.dumps(
            envelope_type(event).model_json_schema(), indent=2, sort_keys=True
        )
        + "\n"
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
