"""The CloudEvents 1.0 envelope (structured JSON mode) that carries every Passerelle event."""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from .types import ID_MAX_LENGTH, ONE_LINE, ONE_LINE_PATTERN

CONTENT_TYPE = "application/cloudevents+json"

# Where each event's JSON Schema is published (the same files ship in the package, `schemas/`): its
# `$id`, and with the pointer to its `data` the `dataschema` of every event of that type.
SCHEMA_BASE_URI = (
    "https://raw.githubusercontent.com/passerelle/passerelle/main/contracts/src/passerelle/contracts/schemas/"
)

# What consumers can store: the inbox keeps `id` in passerelle_inbox.event_id (64 characters) and the
# read models keep `subject`, an aggregate id, in id columns. An envelope beyond these, or with more
# than one line in them, could never be handled: it fails validation and goes to the DLQ.
EVENT_ID_MAX_LENGTH = 64
_DOCUMENTED_ONE_LINE = Field(json_schema_extra={"pattern": ONE_LINE_PATTERN})
EventId = Annotated[
    str, StringConstraints(min_length=1, max_length=EVENT_ID_MAX_LENGTH), ONE_LINE, _DOCUMENTED_ONE_LINE
]
AggregateId = Annotated[
    str, StringConstraints(min_length=1, max_length=ID_MAX_LENGTH), ONE_LINE, _DOCUMENTED_ONE_LINE
]

# The correlation id of the request or message being handled; events recorded meanwhile carry it.
correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)


class EventData(BaseModel):
    """Base of every event's `data`: frozen, documented, and tolerant of fields it does not know."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    # Set by each concrete event; the registry checks they are unique.
    event_name: ClassVar[str]
    subject: ClassVar[str]
    owner: ClassVar[str]
    version: ClassVar[int] = 1

    @classmethod
    def type_name(cls) -> str:
        return f"passerelle.{cls.owner}.{cls.event_name}.v{cls.version}"

    @classmethod
    def schema_uri(cls) -> str:
        """The `$id` of the JSON Schema of this event's whole envelope."""
        return f"{SCHEMA_BASE_URI}{cls.type_name()}.json"

    @classmethod
    def data_schema_uri(cls) -> str:
        """The CloudEvents `dataschema`: the part of that schema that describes `data`."""
        return f"{cls.schema_uri()}#/$defs/{cls.__name__}"

    def aggregate_id(self) -> str:
        """The id of the aggregate this fact is about; it becomes the envelope's `subject`."""
        raise NotImplementedError


DataT = TypeVar("DataT", bound=EventData)


class CloudEvent(BaseModel, Generic[DataT]):
    """A CloudEvents 1.0 envelope. Unknown attributes (extensions) are ignored when reading."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: Literal["1.0"] = "1.0"
    id: EventId = Field(description="Unique per event; also sent as the Nats-Msg-Id header.")
    source: str = Field(description="passerelle/<owning service>", min_length=1, max_length=200)
    type: str = Field(description="passerelle.<service>.<EventName>.v<N>", min_length=1, max_length=200)
    subject: AggregateId = Field(description="The id of the aggregate the event is about.")
    time: datetime = Field(description="When it happened, RFC 3339 in UTC.")
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = Field(
        default=None, max_length=300, description="The JSON Schema that `data` follows (a URI)."
    )
    correlationid: AggregateId | None = Field(
        default=None, description="Extension: the id shared by every event of one user action."
    )
    data: DataT

    def nats_headers(self) -> dict[str, str]:
        return {"Nats-Msg-Id": self.id, "content-type": CONTENT_TYPE}

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()


def envelope(data: DataT, *, event_id: str | None = None, at: datetime | None = None) -> CloudEvent[DataT]:
    """Wrap an event's data in a fresh envelope, carrying the current correlation id."""
    event_id = event_id or str(uuid.uuid4())
    return envelope_type(type(data))(
        id=event_id,
        source=f"passerelle/{data.owner}",
        type=data.type_name(),
        subject=data.aggregate_id(),
        time=at or datetime.now(UTC),
        dataschema=data.data_schema_uri(),
        correlationid=correlation_id.get() or event_id,
        data=data,
    )


def envelope_type(data_type: type[DataT]) -> type[CloudEvent[DataT]]:
    """The concrete envelope model for one event type; it also checks `type` and `source`."""
    if data_type not in _ENVELOPE_TYPES:
        fields: dict[str, Any] = {
            "type": (Literal[data_type.type_name()], Field(description="The event type.")),
            "source": (Literal[f"passerelle/{data_type.owner}"], Field(description="The owning service.")),
        }
        _ENVELOPE_TYPES[data_type] = create_model(
            f"{data_type.__name__}Event",
            __base__=CloudEvent[data_type],  # type: ignore[valid-type]
            **fields,
        )
    return _ENVELOPE_TYPES[data_type]


_ENVELOPE_TYPES: dict[type[EventData], type[CloudEvent[Any]]] = {}
