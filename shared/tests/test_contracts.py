"""The public event contract: envelope, catalogue and the generated JSON Schemas."""

import json

import pytest
from jsonschema import Draft202012Validator
from passerelle.contracts import (
    EVENTS,
    EVENTS_BY_SUBJECT,
    STREAMS,
    EventData,
    MatchProposed,
    SkillOffered,
    envelope,
    envelope_type,
    stream_of,
)
from passerelle.contracts.examples import example_data
from passerelle.contracts.schema_export import SCHEMA_DIR, event_schemas
from pydantic import ValidationError


def test_the_committed_json_schemas_match_the_contract_models() -> None:
    """Run `make schemas` after changing a contract model; other teams read these files."""
    generated = event_schemas()
    committed = {path.name: path.read_text() for path in SCHEMA_DIR.glob("*.json")}
    assert committed == generated, "the JSON Schemas drifted from the models: run `make schemas`"


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: event.type_name())
def test_each_json_schema_names_its_dialect_and_id_and_its_example_validates(event: type[EventData]) -> None:
    schema = json.loads((SCHEMA_DIR / f"{event.type_name()}.json").read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == event.schema_uri() and schema["$id"].endswith(f"/{event.type_name()}.json")
    Draft202012Validator.check_schema(schema)
    (example,) = schema["examples"]
    Draft202012Validator(schema).validate(example)
    assert envelope_type(event).model_validate(example).data == example_data(event)


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: event.type_name())
def test_every_event_says_which_schema_its_data_follows(event: type[EventData]) -> None:
    sent = envelope(example_data(event))
    assert sent.dataschema is not None
    schema_id, _, pointer = sent.dataschema.partition("#")
    schema = json.loads((SCHEMA_DIR / f"{event.type_name()}.json").read_text())
    assert schema_id == schema["$id"]
    data_schema = schema["$defs"][pointer.removeprefix("/$defs/")]  # the pointer leads to `data`
    Draft202012Validator({**data_schema, "$defs": schema["$defs"]}).validate(
        json.loads(sent.to_json())["data"]
    )


CONTRACT_V1_SUBJECTS = {
    "members.member_registered.v1",
    "members.member_profile_updated.v1",
    "members.skill_offered.v1",
    "members.skill_offer_withdrawn.v1",
    "members.member_erased.v1",
    "projects.territory_registered.v1",
    "projects.project_published.v1",
    "projects.project_updated.v1",
    "projects.project_closed.v1",
    "projects.pledge_made.v1",
    "projects.funding_goal_reached.v1",
    "matching.match_proposed.v1",
    "matching.match_accepted.v1",
    "matching.match_declined.v1",
    "matching.match_confirmed.v1",
    "matching.match_withdrawn.v1",
    "notifications.notification_delivered.v1",
    "notifications.notification_failed.v1",
}


def test_the_catalogue_has_every_v1_event_of_the_contract_each_in_its_owners_stream() -> None:
    assert set(EVENTS_BY_SUBJECT) >= CONTRACT_V1_SUBJECTS
    assert set(EVENTS_BY_SUBJECT) == {event.subject for event in EVENTS}
    for event in EVENTS:
        stream = stream_of(event)
        assert event.subject.startswith(f"{event.owner}.") and event.subject.endswith(".v1")
        assert stream.owner == event.owner and any(s == f"{event.owner}.>" for s in stream.subjects)
    assert {stream.name for stream in STREAMS} == {
        "MEMBERS",
        "PROJECTS",
        "MATCHING",
        "NOTIFICATIONS",
        "CONVERSATIONS",
        "GATHERINGS",
        "IDEAS",
        "OPPORTUNITIES",
        "DLQ",
    }


def test_an_envelope_carries_cloudevents_attributes_and_the_msg_id_header() -> None:
    event = envelope(
        SkillOffered(offer_id="o1", member_id="m1", skill="energy.solar_pv_design", level=4, modes=["remote"])
    )
    body = json.loads(event.to_json())
    assert body["specversion"] == "1.0"
    assert body["type"] == "passerelle.members.SkillOffered.v1"
    assert body["source"] == "passerelle/members"
    assert body["subject"] == "m1"
    assert body["datacontenttype"] == "application/json"
    assert body["time"].endswith("Z")
    assert event.nats_headers() == {"Nats-Msg-Id": event.id, "content-type": "application/cloudevents+json"}


def test_readers_ignore_fields_they_do_not_know() -> None:
    event = envelope(
        MatchProposed(
            match_id="x",
            project_id="p",
            need_id="n",
            offer_id="o",
            member_id="m",
            score=0.5,
            reasons=["skill_exact"],
        )
    )
    body = json.loads(event.to_json())
    body["traceparent"] = "00-abc"
    body["data"]["future_field"] = {"added": "in v1.1"}
    parsed = envelope_type(MatchProposed).model_validate(body)
    assert parsed.data.score == 0.5


@pytest.mark.parametrize(
    "change",
    [
        {"type": "passerelle.matching.MatchDeclined.v1"},
        {"source": "passerelle/members"},
        {"specversion": "0.3"},
        {"data": {"match_id": "x"}},
        {"subject": "a\u2028b"},
        {"id": "a\u2029b"},
        {"correlationid": "c" * 101},
        {"correlationid": "a\nb"},
        {
            "data": {
                "match_id": "x\ny",
                "project_id": "p",
                "need_id": "n",
                "offer_id": "o",
                "member_id": "m",
                "score": 0.5,
            }
        },
    ],
)
def test_an_envelope_that_breaks_the_contract_is_rejected(change: dict) -> None:
    event = envelope(
        MatchProposed(match_id="x", project_id="p", need_id="n", offer_id="o", member_id="m", score=0.5)
    )
    with pytest.raises(ValidationError):
        envelope_type(MatchProposed).model_validate({**json.loads(event.to_json()), **change})
