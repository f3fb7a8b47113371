"""The reminders loop: it announces what is due round after round, and one failing round stops nothing."""

import asyncio

from gatherings.reminders import Reminders


async def test_the_loop_takes_full_rounds_until_none_is_due_and_goes_on_after_a_failure() -> None:
    answers: list[int | Exception] = [200, 3, 0, RuntimeError("database away"), 1, 0]
    calls = asyncio.Event()
    seen: list[int | Exception] = []

    async def remind() -> int:
        answer = answers.pop(0) if answers else 0
        seen.append(answer)
        if not answers:
            calls.set()
        if isinstance(answer, Exception):
            raise answer
        return answer

    reminders = Reminders(remind, interval=0.01)
    await reminders.start()
    await asyncio.wait_for(calls.wait(), 5)
    await reminders.stop()
    assert seen[:6] == [200, 3, 0, seen[3], 1, 0]
    assert isinstance(seen[3], RuntimeError)
