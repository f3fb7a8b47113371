"""What a use case needs of a unit of work, as a protocol: handlers import no database or messaging
code, so that they can be tested in milliseconds with an in-memory unit of work (`InMemoryUnitOfWork`)
and the service's wiring hands them the real one (passerelle.messaging.unit_of_work)."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

from passerelle.contracts import EventData

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class UnitOfWork(Protocol[R_co]):
    """One transaction: `repository` reads and writes the service's state, `record` adds an event to
    publish, and `commit` makes both durable together. Leaving the block without `commit()` rolls
    everything back."""

    @property
    def repository(self) -> R_co: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def record(self, data: EventData) -> Any: ...

    def on_commit(self, callback: Callable[[], None]) -> None: ...

    def on_rollback(self, callback: Callable[[], None]) -> None: ...

    async def commit(self) -> None: ...


class InMemoryUnitOfWork(Generic[R]):
    """A unit of work for fast tests of use cases, around an in-memory fake of a repository: it keeps
    what was recorded and committed (`published`), and forgets what was recorded but not committed."""

    def __init__(self, repository: R) -> None:
        self.repository = repository
        self.recorded: list[EventData] = []
        self.published: list[EventData] = []
        self.commits = 0
        self._after_commit: list[Callable[[], None]] = []
        self._after_rollback: list[Callable[[], None]] = []

    async def __aenter__(self) -> Self:
        self.recorded, self._after_commit, self._after_rollback = [], [], []
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        callbacks = self._after_rollback
        self.recorded, self._after_commit, self._after_rollback = [], [], []
        for callback in callbacks:
            callback()

    def record(self, data: EventData) -> EventData:
        self.recorded.append(data)
        return data

    def on_commit(self, callback: Callable[[], None]) -> None:
        if callback not in self._after_commit:
            self._after_commit.append(callback)

    def on_rollback(self, callback: Callable[[], None]) -> None:
        if callback not in self._after_rollback:
            self._after_rollback.append(callback)

    async def commit(self) -> None:
        self.published += self.recorded
        self.commits += 1
        self.recorded, self._after_rollback = [], []
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()
