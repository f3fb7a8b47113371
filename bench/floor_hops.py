"""One hop of the floor that the end-to-end benchmark compares the platform with (a process of its own,
as each service is one): pull messages from `SUBJECT.<hop>` continuously, store each with one
statement (its claim, its state and what it passes on, in one INSERT), pass it on to
`SUBJECT.<hop + 1>` with a PubAck (the last hop to the plain subject `SUBJECT.done`), then ack it.
The cheapest way to do what the platform does per hop, so the platform's CPU per flow reads as a
multiple of it.

    python bench/floor_hops.py NATS_URL POSTGRES_DSN STREAM HOP LAST
"""

from __future__ import annotations

import asyncio
import signal
import sys

import asyncpg
import nats
from nats.js.api import AckPolicy, ConsumerConfig

BATCH = 64


async def hop(nats_url: str, dsn: str, stream: str, number: int, last: int) -> None:
    connection = await nats.connect(nats_url)
    database = await asyncpg.connect(dsn)
    js = connection.jetstream()
    durable = f"hop{number}"
    await js.add_consumer(
        stream,
        ConsumerConfig(
            durable_name=durable, filter_subject=f"{stream}.{number}", ack_policy=AckPolicy.EXPLICIT
        ),
    )
    subscription = await js.pull_subscribe(f"{stream}.{number}", durable=durable, stream=stream)
    insert = await database.prepare(f"INSERT INTO hop{number} (body) VALUES ($1)")
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    print("ready", flush=True)
    while not stopping.is_set():
        try:
            messages = await subscription.fetch(batch=BATCH, timeout=1.0)
        except nats.errors.TimeoutError:
            continue
        for message in messages:
            await insert.fetch(message.data)
            if number == last:
                await connection.publish(f"{stream}.done", message.data)
            else:
                await js.publish(f"{stream}.{number + 1}", message.data, stream=stream)
            await message.ack()
    await database.close()
    await connection.close()


if __name__ == "__main__":
    nats_url, dsn, stream, number, last = sys.argv[1:6]
    asyncio.run(hop(nats_url, dsn, stream, int(number), int(last)))
