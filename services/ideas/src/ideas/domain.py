"""Ideas and their rules: plain Python, no I/O, no framework."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from passerelle.errors import RuleBroken

from .commands import ChangeIdea, CreateIdea


@dataclass(frozen=True)
class Idea:
    idea_id: str
    owner_member_id: str
    title: str
    created_at: datetime

    def may_be_changed_by(self, sub: str) -> bool:
        return sub == self.owner_member_id

    def changed(self, command: ChangeIdea) -> Idea:
        return replace(self, **command.model_dump(exclude_unset=True))


def create(owner: str, command: CreateIdea, owned: int, limit: int, now: datetime) -> Idea:
    """A new idea of `owner`, who already has `owned` of the `limit` a member may have."""
    if owned >= limit:
        raise RuleBroken(f"a member may have at most {limit} ideas")
    return Idea(str(uuid.uuid4()), owner, command.title, now)
