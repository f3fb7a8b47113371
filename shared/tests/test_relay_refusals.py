"""How the outbox relay tells a row that will never be published from a passing outage (no I/O)."""

from __future__ import annotations

from nats.errors import ConnectionClosedError, MaxPayloadError, NoRespondersError, OutboundBufferLimitError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import BadRequestError, ServiceUnavailableError
from passerelle.messaging.relay import _refusal


def test_a_publish_that_times_out_or_loses_its_connection_is_retried_however_often_it_happens() -> None:
    passing = [NatsTimeout(), ConnectionClosedError(), NoRespondersError(), OutboundBufferLimitError()]
    assert all(_refusal(error) is None for error in passing * 50)


def test_jetstream_refusing_a_message_as_too_large_is_final_but_jetstream_unavailable_is_not() -> None:
    too_large = BadRequestError(code=400, err_code=10054, description="message size exceeds maximum allowed")
    assert _refusal(too_large) is not None
    unavailable = ServiceUnavailableError(code=503, description="JetStream not ready")
    assert _refusal(unavailable) is None
    assert _refusal(MaxPayloadError()) is not None


def test_a_stream_mismatch_while_streams_are_provisioned_again_is_retried_not_dead_lettered() -> None:
    mismatch = BadRequestError(code=400, err_code=10060, description="expected stream does not match")
    assert _refusal(mismatch) is None
