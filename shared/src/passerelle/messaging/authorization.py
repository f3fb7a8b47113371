"""NATS permissions of each service, derived from the streams and from what each service declares it
consumes (one source of truth).

A service may publish only into its own stream, to the DLQ under its own consumers' and its outbox
relay's names, and to
the JetStream API calls its durable pull consumers need (info, next message, acknowledgements); it
may subscribe only to its own reply inbox (`_INBOX_<service>.>`), where its requests' answers and its
pull consumers' messages arrive. Streams and consumers are created by an admin user (the provisioning
Job, `passerelle nats provision`), never by a service.

Other teams' consumers, declared by the operator in a TOML file (a name and the event types it may
read), get a user too: it may create, read and delete its own durables (`<name>__<Event>_v<n>`, each
filtered on one declared event), fetch from them and acknowledge, and listen on its own reply inbox
(`_INBOX_<name>`); it may publish nothing into any stream.

`passerelle nats auth-config` renders this as a nats-server configuration block or as values for the
official NATS Helm chart; passwords stay in the environment of the NATS server (`$VARIABLE`).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from passerelle.contracts import EVENTS_BY_TYPE, STREAMS, EventData

from .dead_letters import outbox_consumer
from .topology import Consumed, Subscription

ADMIN = "passerelle-admin"


def inbox_prefix(service: str) -> str:
    """Each service's replies arrive under its own prefix, so no service can read another's."""
    return f"_INBOX_{service}"


def password_variable(user: str) -> str:
    return f"PASSERELLE_NATS_{user.upper().replace('-', '_')}_PASSWORD"


@dataclass(frozen=True)
class Permissions:
    user: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def service_permissions(service: str, consumed: Consumed) -> Permissions:
    if service not in consumed:
        raise LookupError(f"unknown service {service!r}")
    publish = [subject for stream in STREAMS if stream.owner == service for subject in stream.subjects]
    publish.append(f"dlq.{outbox_consumer(service)}.>")  # outbox rows JetStream refuses for good
    for sub in (Subscription(service, event) for event in consumed[service]):
        stream, durable = sub.stream.name, sub.durable
        publish += [
            f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
            f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
            f"$JS.ACK.{stream}.{durable}.>",
            f"dlq.{durable}.>",
        ]
    return Permissions(service, tuple(publish), (f"{inbox_prefix(service)}.>",))


@dataclass(frozen=True)
class ExternalConsumer:
    """Another team's consumer: its NATS user name and the events it may read."""

    name: str
    events: tuple[type[EventData], ...]

    @property
    def subscriptions(self) -> list[Subscription]:
        return [Subscription(self.name, event) for event in self.events]


# A NATS subject token and a durable name: no dot, no wildcard, no space.
CONSUMER_NAME = re.compile(r"[a-z][a-z0-9-]{1,39}")


def load_external_consumers(path: Path, consumed: Consumed) -> list[ExternalConsumer]:
    """The consumers declared in `path`, a TOML file of `[[consumer]]` tables with `name` and `events`
    (event types, e.g. "passerelle.members.MemberRegistered.v1"); a ValueError says what is wrong."""
    try:
        declared = tomllib.loads(path.read_text(encoding="utf-8")).get("consumer", [])
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"{path}: {error}") from error
    if not isinstance(declared, list):
        raise ValueError(f"{path}: `consumer` must be a list of tables ([[consumer]])")
    consumers: list[ExternalConsumer] = []
    for entry in declared:
        name, types = (entry.get("name"), entry.get("events")) if isinstance(entry, dict) else (None, None)
        if not isinstance(name, str) or not CONSUMER_NAME.fullmatch(name):
            raise ValueError(
                f"{path}: a consumer's name is 2 to 40 lowercase letters, digits or '-': {name!r}"
            )
        if name in consumed or name == ADMIN or name in (c.name for c in consumers):
            raise ValueError(f"{path}: the name {name!r} is taken")
        if not isinstance(types, list) or not types:
            raise ValueError(f"{path}: consumer {name!r} needs `events`, a list of event types")
        unknown = [t for t in types if t not in EVENTS_BY_TYPE]
        if unknown:
            raise ValueError(f"{path}: consumer {name!r} names unknown event types {unknown}")
        consumers.append(ExternalConsumer(name, tuple(EVENTS_BY_TYPE[t] for t in dict.fromkeys(types))))
    return consumers


def external_permissions(consumer: ExternalConsumer) -> Permissions:
    publish: list[str] = []
    for sub in consumer.subscriptions:
        stream, durable = sub.stream.name, sub.durable
        publish += [
            # The filter is part of the subject, so the server refuses a durable on any other event.
            f"$JS.API.CONSUMER.CREATE.{stream}.{durable}.{sub.event.subject}",
            f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
            f"$JS.API.CONSUMER.DELETE.{stream}.{durable}",
            f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
            f"$JS.ACK.{stream}.{durable}.>",
        ]
    return Permissions(consumer.name, tuple(publish), (f"{inbox_prefix(consumer.name)}.>",))


def admin_permissions() -> Permissions:
    """The provisioning Job and the DLQ tools: everything."""
    return Permissions(ADMIN, (">",), (">",))


def all_permissions(consumed: Consumed, external: Sequence[ExternalConsumer] = ()) -> list[Permissions]:
    return (
        [service_permissions(service, consumed) for service in consumed]
        + [external_permissions(consumer) for consumer in external]
        + [admin_permissions()]
    )


def render_server_config(consumed: Consumed, external: Sequence[ExternalConsumer] = ()) -> str:
    """An `authorization { users = [...] }` block for nats-server; passwords come from its environment."""
    lines = [
        "# Generated by `passerelle nats auth-config --format conf`: do not edit, regenerate.",
        "authorization {",
        "  users = [",
    ]
    for permissions in all_permissions(consumed, external):
        lines += [
            "    {",
            f'      user: "{permissions.user}"',
            f"      password: ${password_variable(permissions.user)}",
            "      permissions: {",
            "        publish: { allow: [",
            *(f"          {json.dumps(subject)}" for subject in permissions.publish),
            "        ] }",
            "        subscribe: { allow: [",
            *(f"          {json.dumps(subject)}" for subject in permissions.subscribe),
            "        ] }",
            "      }",
            "    }",
        ]
    lines += ["  ]", "}", ""]
    return "\n".join(lines)


def render_helm_values(consumed: Consumed, external: Sequence[ExternalConsumer] = ()) -> str:
    """Values for the official NATS Helm chart: the same users, passwords from a Secret."""
    lines = [
        "# Generated by `passerelle nats auth-config --format helm`: do not edit, regenerate.",
        "# Use with: helm install nats nats/nats -f values.yaml -f values-authorization.yaml",
        "# The Secret passerelle-nats-users holds one key per user (see docs/kubernetes.md).",
        "config:",
        "  merge:",
        "    authorization:",
        "      users:",
    ]
    for permissions in all_permissions(consumed, external):
        lines += [
            f"        - user: {permissions.user}",
            f"          password: << ${password_variable(permissions.user)} >>",
            "          permissions:",
            "            publish:",
            "              allow:",
            *(f"                - {json.dumps(subject)}" for subject in permissions.publish),
            "            subscribe:",
            "              allow:",
            *(f"                - {json.dumps(subject)}" for subject in permissions.subscribe),
        ]
    lines += ["container:", "  env:"]
    for permissions in all_permissions(consumed, external):
        lines += [
            f"    {password_variable(permissions.user)}:",
            "      valueFrom:",
            f"        secretKeyRef: {{name: passerelle-nats-users, key: {permissions.user}}}",
        ]
    return "\n".join(lines) + "\n"
