"""One example of every event, built from its JSON Schema, for the schemas and the catalogue.

Built rather than written by hand, so that an event added to the registry has its example without
anyone writing one: each field gets a plausible value from its name, its format or its pattern, and
the result is validated by the event's own model (an example that does not validate is an error).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .envelope import CloudEvent, EventData, envelope

# Values chosen by field name, for the fields whose type alone says little.
BY_NAME: dict[str, Any] = {
    "display_name": "Fatima Amrani",
    "name": "Tafraout",
    "email": "fatima@example.org",
    "locale": "fr",
    "time_zone": "Africa/Casablanca",
    "country": "MA",
    "country_of_residence": "BE",
    "currency": "EUR",
    "skill": "energy.solar_pv_design",
    "sector": "energy",
    "sectors": ["energy"],
    "title": "Solar pumping for the Tafraout cooperative",
    "summary": "Two solar pumps and the training to run them.",
    "amount": "250.00",
    "goal_amount": "12000.00",
    "total": "12000.00",
    "kind": None,  # from its enumeration
    "reason": None,
    "error": "smtp: connection refused",
    "sub": "amina",
    "managers": ["amina"],
}
# Values chosen by pattern (the contract's code types), then by format.
BY_PATTERN = {
    r"^[A-Z]{2}$": "MA",
    r"^[a-z]{2}$": "fr",
    r"^[A-Z]{3}$": "EUR",
    r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$": "fr",
    r"^-?[0-9]{1,15}(\.[0-9]{1,4})?$": "250.00",
}
BY_FORMAT = {"email": "fatima@example.org", "date": "2026-12-01", "date-time": "2026-12-01T10:00:00Z"}
EXAMPLE_TIME = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def example_data(event: type[EventData]) -> EventData:
    schema = event.model_json_schema()
    return event.model_validate(_value(schema, schema, event.__name__))


def example_event(event: type[EventData]) -> CloudEvent[Any]:
    return envelope(example_data(event), event_id="7d4f6c1e-3b9a-4f0e-9c55-2a1d8e6b4f01", at=EXAMPLE_TIME)


def _value(schema: dict[str, Any], root: dict[str, Any], name: str) -> Any:
    if "$ref" in schema:
        return _value(root["$defs"][schema["$ref"].rsplit("/", 1)[1]], root, name)
    for choices in ("anyOf", "oneOf"):
        if choices in schema:
            return _value(next(s for s in schema[choices] if s.get("type") != "null"), root, name)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if BY_NAME.get(name) is not None:
        return BY_NAME[name]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {field: _value(sub, root, field) for field, sub in properties.items()}
    if kind == "array":
        return [_value(schema.get("items", {}), root, name.removesuffix("s"))]
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    if kind == "number":
        return 0.82 if schema.get("maximum") == 1 else max(schema.get("minimum", 1), 1)
    if kind == "boolean":
        return True
    return _text(schema, name)


def _text(schema: dict[str, Any], name: str) -> str:
    if schema.get("pattern") in BY_PATTERN:
        return BY_PATTERN[schema["pattern"]]
    if schema.get("format") in BY_FORMAT:
        return BY_FORMAT[schema["format"]]
    if name.endswith("_id") or name.endswith("_ids"):
        return f"{name.removesuffix('s').removesuffix('_id')}-1".replace("_", "-")
    return name.replace("_", " ")
