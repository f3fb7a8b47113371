"""Other teams' consumers as the operator declares them: read only the events named, publish nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from passerelle.messaging.authorization import (
    all_permissions,
    external_permissions,
    load_external_consumers,
    render_server_config,
)
from passerelle.runtime.service import consumed_events


def declared(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "consumers.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_declared_consumer_may_only_create_read_and_ack_its_own_durables_on_the_events_named(
    tmp_path: Path,
) -> None:
    path = declared(
        tmp_path,
        '[[consumer]]\nname = "ngo-dashboard"\n'
        'events = ["passerelle.members.MemberRegistered.v1", "passerelle.projects.ProjectPublished.v1"]\n',
    )
    (consumer,) = load_external_consumers(path, consumed_events())
    permissions = external_permissions(consumer)
    assert permissions.subscribe == ("_INBOX_ngo-dashboard.>",)
    assert (
        "$JS.API.CONSUMER.CREATE.MEMBERS.ngo-dashboard__MemberRegistered_v1.members.member_registered.v1"
        in permissions.publish
    )
    assert "$JS.ACK.PROJECTS.ngo-dashboard__ProjectPublished_v1.>" in permissions.publish
    # Nothing but JetStream API calls and acks on its own durables: no stream subject, no wildcard.
    assert all(subject.startswith(("$JS.API.CONSUMER.", "$JS.ACK.")) for subject in permissions.publish)
    assert all("ngo-dashboard__" in subject for subject in permissions.publish)
    assert "ngo-dashboard" in [p.user for p in all_permissions(consumed_events(), [consumer])]
    assert 'user: "ngo-dashboard"' in render_server_config(consumed_events(), [consumer])


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('[[consumer]]\nname = "members"\nevents = ["passerelle.members.MemberErased.v1"]\n', "taken"),
        ('[[consumer]]\nname = "Bad.Name"\nevents = ["passerelle.members.MemberErased.v1"]\n', "lowercase"),
        ('[[consumer]]\nname = "ngo"\nevents = ["passerelle.members.Nothing.v1"]\n', "unknown event types"),
        ('[[consumer]]\nname = "ngo"\n', "needs `events`"),
        ("consumer = 3\n", "list of tables"),
        ("[[consumer]\n", "consumers.toml"),
    ],
)
def test_a_wrong_declaration_is_refused_saying_what_is_wrong(tmp_path: Path, text: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        load_external_consumers(declared(tmp_path, text), consumed_events())
