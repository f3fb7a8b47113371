"""What a thread is, who acts in it, and how its messages and read positions move."""

from datetime import UTC, datetime

import pytest
from conversations.commands import BODY_MAX_LENGTH, PostMessage
from conversations.domain import ERASED, acting_participant, open_thread, post, read, thread_id_of
from passerelle.errors import Forbidden
from pydantic import ValidationError

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_the_thread_of_a_context_has_one_id_whoever_opens_it_and_however_often() -> None:
    first = open_thread("match", "m1", [("fatima", "helper"), ("assoc", "owner")], "Solar", NOW)
    again = open_thread("match", "m1", [("fatima", "helper"), ("assoc", "owner")], "Solar", NOW)
    assert first is not None and again is not None
    assert first.thread_id == again.thread_id == thread_id_of("match", "m1")
    assert thread_id_of("introduction", "m1") != first.thread_id


def test_no_thread_opens_with_nobody_on_the_other_side() -> None:
    assert open_thread("match", "m1", [("fatima", "helper"), (ERASED, "owner")], None, NOW) is None
    assert open_thread("match", "m1", [("fatima", "helper"), ("fatima", "owner")], None, NOW) is None


def test_a_manager_acts_for_the_association_and_a_stranger_for_nobody() -> None:
    thread = open_thread("match", "m1", [("fatima", "helper"), ("assoc", "owner")], None, NOW)
    assert thread is not None
    assert acting_participant(thread, "fatima", set()).role == "helper"
    assert acting_participant(thread, "amina", {"assoc"}).member_id == "assoc"
    with pytest.raises(Forbidden):
        acting_participant(thread, "youssef", set())


def test_the_author_has_read_their_message_and_the_other_side_has_not_until_they_read() -> None:
    thread = open_thread("match", "m1", [("fatima", "helper"), ("assoc", "owner")], None, NOW)
    assert thread is not None
    fatima = acting_participant(thread, "fatima", set())
    thread, first = post(thread, fatima, "msg-1", "Salam", NOW)
    thread, second = post(thread, fatima, "msg-2", "When can we talk?", NOW)
    assert (first.seq, second.seq) == (1, 2)
    assert (thread.unread_for("fatima"), thread.unread_for("assoc")) == (0, 2)
    owner = acting_participant(thread, "amina", {"assoc"})
    assert read(thread, owner).unread_for("assoc") == 0


def test_a_message_is_one_to_four_thousand_characters() -> None:
    assert PostMessage(body="  hello\r\nthere ").body == "hello\nthere"
    PostMessage(body="x" * BODY_MAX_LENGTH)
    for body in ("   ", "x" * (BODY_MAX_LENGTH + 1), "bell\x07"):
        with pytest.raises(ValidationError):
            PostMessage(body=body)
