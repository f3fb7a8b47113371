"""An example consumer of Passerelle's events with FastStream: members registered and erased.

    python examples/faststream_consumer.py        # against `passerelle up` in .passerelle

It connects with the URL `up` wrote for it (`.passerelle/nats-example-faststream.url`, or NATS_URL).
FastStream creates its durable pull consumers at the first run (`<name>__<Event>_v<N>`, each filtered
on its event, as its NATS user allows), validates each envelope with the contract's model, and
acknowledges once the handler returned (its transaction committed), or asks for a redelivery if
it raised.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from faststream import AckPolicy, FastStream
from faststream.exceptions import RejectMessage
from faststream.nats import JStream, NatsBroker, PullSub
from nats.js.api import AckPolicy as JetStreamAck
from nats.js.api import ConsumerConfig, DeliverPolicy
from passerelle.contracts import EventData, MemberErased, MemberRegistered, envelope_type, stream_of
from pydantic import ValidationError
from store import Store

NAME = "example-faststream"


def build(url: str, store: Store, stop_after: int | None) -> FastStream:
    broker = NatsBroker(url, inbox_prefix=f"_INBOX_{NAME}", name=NAME, ack_policy=AckPolicy.NACK_ON_ERROR)
    app = FastStream(broker)
    handled = 0

    def subscriber(event: type[EventData]):
        durable = f"{NAME}__{event.event_name}_v{event.version}"
        return broker.subscriber(
            event.subject,
            stream=JStream(stream_of(event).name, declare=False),  # the operator's streams, not ours
            durable=durable,
            config=ConsumerConfig(
                name=durable,
                durable_name=durable,
                filter_subject=event.subject,
                ack_policy=JetStreamAck.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
            ),
            pull_sub=PullSub(batch_size=10, timeout=1.0),
            inbox_prefix=f"_INBOX_{NAME}.".encode(),
        )

    def handle(event: type[MemberRegistered] | type[MemberErased], body: bytes) -> None:
        nonlocal handled
        try:
            received = envelope_type(event).model_validate_json(body)
        except ValidationError as error:
            print(f"refused {event.subject}: {error.error_count()} error(s)", flush=True)
            raise RejectMessage from error  # it would fail the same way every time: not redelivered
        print(store.handle(received), flush=True)
        handled += 1
        if stop_after is not None and handled >= stop_after:
            app.exit()

    # The body comes as bytes: its content type is application/cloudevents+json.
    @subscriber(MemberRegistered)
    async def on_registered(body: bytes) -> None:
        handle(MemberRegistered, body)

    @subscriber(MemberErased)
    async def on_erased(body: bytes) -> None:
        handle(MemberErased, body)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=Path(".passerelle"), help="the data dir of `up`")
    parser.add_argument("--store", type=Path, default=Path(f"{NAME}.sqlite"))
    parser.add_argument("--stop-after", type=int, help="stop after this many events (for tests)")
    args = parser.parse_args()
    url = os.environ.get("NATS_URL") or (args.data_dir / f"nats-{NAME}.url").read_text().strip()
    asyncio.run(build(url, Store(args.store), args.stop_after).run())


if __name__ == "__main__":
    main()
