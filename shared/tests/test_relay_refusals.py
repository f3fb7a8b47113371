"""How the outbox relay tells a row that will never be published from a passing outage (no I/O)."""

from __future__ import annotations

from typing import Any, cast

from nats.errors import MaxPayloadError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import BadRequestError, ServiceUnavailableError
from passerelle.messaging.relay import OutboxRelay


def _relay() -> OutboxRelay:
    return OutboxRelay(cast(Any, None), cast(Any, None), "members", suspect_after=5)


def test_a_publish_that_fails_while_other_rows_go_out_is_refused_on_its_fifth_such_pass() -> None:
    relay = _relay()
    verdicts = [relay._refusal(7, NatsTimeout(), others_went_out=True) for _ in range(5)]
    assert verdicts[:4] == [None] * 4
    assert verdicts[4] is not None
    assert "5 times while other events were published" in verdicts[4]


def test_a_publish_that_fails_with_every_other_row_is_retried_for_ever_as_an_outage() -> None:
    relay = _relay()
    assert all(relay._refusal(7, NatsTimeout(), others_went_out=False) is None for _ in range(50))


def test_jetstream_refusing_a_message_is_final_but_jetstream_unavailable_is_not() -> None:
    relay = _relay()
    refused = BadRequestError(code=400, err_code=10070, description="wrong last msg ID")
    assert relay._refusal(1, refused, others_went_out=False) is not None
    unavailable = ServiceUnavailableError(code=503, description="JetStream not ready")
    assert relay._refusal(2, unavailable, others_went_out=False) is None
    assert relay._refusal(3, MaxPayloadError(), others_went_out=False) is not None
