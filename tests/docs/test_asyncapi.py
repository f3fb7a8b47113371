"""The AsyncAPI documents `passerelle asyncapi` writes validate against the official AsyncAPI 3.0.0
schema and say what a consumer needs: plain ids, content type, headers, correlation id, security."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from passerelle.runtime.service import load_services

ROOT = Path(__file__).resolve().parents[2]
OFFICIAL = json.loads((ROOT / "tests" / "data" / "asyncapi" / "3.0.0-without-id.json").read_text())
COMPONENT_ID = re.compile(r"[A-Za-z0-9._-]+")


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("asyncapi")
    subprocess.run(
        [sys.executable, "-m", "passerelle.cli", "asyncapi", "--out", str(out)],
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "PASSERELLE_LOG_LEVEL": "WARNING", "PASSERELLE_JWT_SECRET": "s" * 40},
    )
    return {path.stem: json.loads(path.read_text()) for path in out.glob("asyncapi-*.json")}


def test_a_document_per_service_and_one_for_all_each_valid_asyncapi_3(
    documents: dict[str, dict[str, Any]],
) -> None:
    expected = {f"asyncapi-{definition.name}" for definition in load_services()} | {"asyncapi-passerelle"}
    assert set(documents) == expected
    validator = Draft7Validator(OFFICIAL)
    for name, document in documents.items():
        errors = [f"{list(error.path)}: {error.message[:200]}" for error in validator.iter_errors(document)]
        assert errors == [], name
        assert document["asyncapi"] == "3.0.0"


def test_ids_are_plain_and_messages_say_content_type_headers_and_correlation(
    documents: dict[str, dict[str, Any]],
) -> None:
    document = documents["asyncapi-passerelle"]
    for section in ("channels", "operations"):
        assert all(COMPONENT_ID.fullmatch(key) for key in document[section]), section
    messages = document["components"]["messages"]
    assert messages and all(COMPONENT_ID.fullmatch(key) for key in messages)
    assert not [ref for ref in re.findall(r'"\$ref": "([^"]*)"', json.dumps(document)) if ":" in ref]
    for message in messages.values():
        assert message["contentType"] == "application/cloudevents+json"
        assert {"Nats-Msg-Id", "content-type", "traceparent"} <= set(message["headers"]["properties"])
        assert message["correlationId"]["location"] == "$message.header#/correlation_id"
    for server in document["servers"].values():
        assert server["protocol"] == "nats" and "protocolVersion" not in server
        assert server["security"] == [{"$ref": "#/components/securitySchemes/natsUser"}]
    assert document["components"]["securitySchemes"]["natsUser"]["type"] == "userPassword"
