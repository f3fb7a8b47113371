"""The loop that announces reminders as they fall due; the use case is `GatheringsHandlers.remind`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from passerelle.periodic import Periodic


class Reminders(Periodic):
    def __init__(self, remind: Callable[[], Awaitable[int]], interval: float) -> None:
        # A full round may leave more due: rounds follow at once until none is.
        super().__init__(
            "gatherings-reminders", remind, interval, failed="gatherings.reminders_failed", until_done=True
        )
