"""What a service consumes is declared on its ServiceDefinition; provisioning, NATS permissions and
its consumers read it from there (no I/O)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from passerelle.contracts import MemberErased, SkillOffered
from passerelle.messaging.authorization import render_server_config, service_permissions
from passerelle.messaging.consumers import EventConsumers
from passerelle.messaging.topology import subscriptions
from passerelle.runtime.service import ServiceApp, ServiceDefinition, consumed_events, load_services


def test_every_installed_service_declares_what_it_consumes_on_its_definition() -> None:
    consumed = consumed_events()
    assert list(consumed)[:4] == ["members", "projects", "matching", "notifications"]
    assert sorted(list(consumed)[4:]) == list(consumed)[4:]  # the others follow by name
    assert consumed["members"] == ()
    assert consumed["projects"] == next(d for d in load_services(["projects"])).consumes
    assert MemberErased in consumed["matching"] and MemberErased in consumed["notifications"]


def test_an_event_a_service_declares_gets_its_durable_and_its_permissions() -> None:
    def build(settings: Any, url: str) -> ServiceApp:
        raise AssertionError("not built")

    archive = ServiceDefinition("archive", Path("."), build, consumes=(SkillOffered,))
    consumed = consumed_events([archive])
    assert [sub.durable for sub in subscriptions(consumed)] == ["archive__SkillOffered_v1"]
    assert (
        "$JS.API.CONSUMER.MSG.NEXT.MEMBERS.archive__SkillOffered_v1"
        in service_permissions("archive", consumed).publish
    )
    assert '"dlq.archive__SkillOffered_v1.>"' in render_server_config(consumed)


def test_a_handler_for_an_event_the_service_does_not_declare_is_refused() -> None:
    consumers = EventConsumers(cast(Any, None), "archive", cast(Any, None), consumes=(SkillOffered,))
    with pytest.raises(LookupError, match="declare it in the consumes of its ServiceDefinition"):
        consumers.on(MemberErased)
