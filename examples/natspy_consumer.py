"""An example consumer of Passerelle's events with plain nats-py: members registered and erased.

    python examples/natspy_consumer.py            # against `passerelle up` in .passerelle

It connects with the URL `up` wrote for it (`.passerelle/nats-example-natspy.url`, or NATS_URL), binds
one durable pull consumer per event type (created at the first run, named `<name>__<Event>_v<N>`, as
its NATS user allows), and acknowledges each event after its transaction committed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

import nats
from nats.errors import TimeoutError as FetchTimeout
from passerelle.contracts import MemberErased, MemberRegistered, envelope_type, stream_of
from pydantic import ValidationError
from store import Store

NAME = "example-natspy"
EVENTS = (MemberRegistered, MemberErased)


async def consume(url: str, store: Store, stop_after: int | None) -> None:
    connection = await nats.connect(url, inbox_prefix=f"_INBOX_{NAME}", name=NAME)
    js = connection.jetstream()
    readers = [
        (
            event,
            await js.pull_subscribe(
                event.subject, f"{NAME}__{event.event_name}_v{event.version}", stream=stream_of(event).name
            ),
        )
        for event in EVENTS
    ]
    handled = 0
    try:
        while stop_after is None or handled < stop_after:
            for event, reader in readers:
                try:
                    messages = await reader.fetch(10, timeout=1)
                except FetchTimeout:
                    continue
                for message in messages:
                    try:
                        received = envelope_type(event).model_validate_json(message.data)
                    except ValidationError as error:
                        print(f"refused {message.subject}: {error.error_count()} error(s)", flush=True)
                        await message.term()  # it would fail the same way every time
                        continue
                    print(store.handle(received), flush=True)
                    await message.ack()
                    handled += 1
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=Path(".passerelle"), help="the data dir of `up`")
    parser.add_argument("--store", type=Path, default=Path(f"{NAME}.sqlite"))
    parser.add_argument("--stop-after", type=int, help="stop after this many events (for tests)")
    args = parser.parse_args()
    url = os.environ.get("NATS_URL") or (args.data_dir / f"nats-{NAME}.url").read_text().strip()
    asyncio.run(consume(url, Store(args.store), args.stop_after))


if __name__ == "__main__":
    main()
