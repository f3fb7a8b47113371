"""The timer every service loop runs on: rounds at the interval, at once while more is due, and now
when a commit wakes it."""

from __future__ import annotations

import asyncio

from passerelle.periodic import Periodic


async def test_a_wake_starts_the_next_round_long_before_the_interval() -> None:
    rounds = asyncio.Queue[int]()
    count = 0

    async def work() -> bool:
        nonlocal count
        count += 1
        await rounds.put(count)
        return False

    timer = Periodic("test", work, 3600, failed="test.failed", until_done=True)
    await timer.start()
    try:
        assert await asyncio.wait_for(rounds.get(), 10) == 1  # the first round, at start
        timer.wake()
        assert await asyncio.wait_for(rounds.get(), 10) == 2  # woken: not an hour later
    finally:
        await timer.stop()


async def test_a_wake_during_a_round_is_another_round_after_it() -> None:
    started, release, rounds = asyncio.Event(), asyncio.Event(), asyncio.Queue[int]()
    count = 0

    async def work() -> bool:
        nonlocal count
        count += 1
        if count == 1:
            started.set()
            await release.wait()
        await rounds.put(count)
        return False

    timer = Periodic("test", work, 3600, failed="test.failed")
    await timer.start()
    try:
        await asyncio.wait_for(started.wait(), 10)
        timer.wake()  # new work committed while the round runs
        release.set()
        assert [await asyncio.wait_for(rounds.get(), 10) for _ in range(2)] == [1, 2]
    finally:
        await timer.stop()
