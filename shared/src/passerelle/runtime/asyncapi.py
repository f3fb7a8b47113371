"""AsyncAPI 3 documents that validate and help, from FastStream's: component ids without `:`, each
message's content type, headers and correlation id as we send them, and the servers' protocol and
security. `passerelle asyncapi --out DIR` writes them as files; each service also serves its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from faststream.specification import AsyncAPI

from passerelle.contracts import CONTENT_TYPE

from .service import ServiceApp

HEADERS: dict[str, Any] = {
    "type": "object",
    "required": ["Nats-Msg-Id", "content-type"],
    "properties": {
        "Nats-Msg-Id": {"type": "string", "description": "The event's id: JetStream drops a duplicate"},
        "content-type": {"const": CONTENT_TYPE},
        "correlation_id": {"type": "string", "description": "The event's id again, set when it is published"},
        "traceparent": {
            "type": "string",
            "description": "W3C Trace Context of the publish, when the producer traces (the event's own "
            "`traceparent` names the operation that recorded it)",
        },
        "tracestate": {"type": "string", "description": "W3C Trace Context vendor state, with traceparent"},
    },
}
CORRELATION = {
    "description": "The event's id, in the header the relay sets when it publishes (the payload's "
    "`correlationid` is shared by every event of one user action)",
    "location": "$message.header#/correlation_id",
}
SECURITY = {
    "natsUser": {
        "type": "userPassword",
        "description": "A NATS user per service or consumer (passerelle nats auth-config); "
        "tokens, NKeys and .creds files are accepted too",
    }
}
_NOT_AN_ID = re.compile(r"[^A-Za-z0-9._-]")


def asyncapi_document(services: Sequence[ServiceApp], title: str) -> dict[str, Any]:
    for service in services:
        service.document_published_events()
    spec = AsyncAPI(*(service.broker for service in services), title=title, version="1.0.0")
    document: dict[str, Any] = _with_plain_ids(spec.to_specification().to_jsonable())
    document["defaultContentType"] = CONTENT_TYPE
    for server in document.get("servers", {}).values():
        server["protocol"] = "nats"
        server.pop("protocolVersion", None)  # FastStream's "custom" is no version of NATS
        server["security"] = [{"$ref": "#/components/securitySchemes/natsUser"}]
    components = document.setdefault("components", {})
    components["securitySchemes"] = SECURITY
    for message in components.get("messages", {}).values():
        message["contentType"] = CONTENT_TYPE
        message["headers"] = HEADERS
        message["correlationId"] = CORRELATION
    return document


def write_documents(services: Sequence[ServiceApp], directory: Path) -> list[Path]:
    """One document per service and one for them all, as `asyncapi-<name>.json`."""
    directory.mkdir(parents=True, exist_ok=True)
    documents = {s.name: asyncapi_document([s], f"Passerelle {s.name}") for s in services}
    documents["passerelle"] = asyncapi_document(services, "Passerelle")
    written = []
    for name, document in documents.items():
        path = directory / f"asyncapi-{name}.json"
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


def _with_plain_ids(value: Any) -> Any:
    """Keys and `$ref`s with `:` (FastStream's `service:Event`) as the ids AsyncAPI allows."""
    if isinstance(value, dict):
        return {
            _NOT_AN_ID.sub(".", key) if not key.startswith("$") else key: (
                _ref(item) if key == "$ref" else _with_plain_ids(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_with_plain_ids(item) for item in value]
    return value


def _ref(reference: str) -> str:
    pointer, _, path = reference.partition("#/")
    return f"{pointer}#/" + "/".join(_NOT_AN_ID.sub(".", part) for part in path.split("/"))
