"""The errors use cases raise: plain Python, no framework. The HTTP layer turns each kind into a
problem once for every service (runtime/problems.py); the messaging kit decides retries from them."""

from __future__ import annotations


class RuleBroken(Exception):
    """The input breaks a rule of the domain (422); the message says which."""


class InvalidField(RuleBroken):
    """One field of the input breaks a rule; `field` names it for the caller (422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class IllegalTransition(Exception):
    """The object is not in a state that allows this (409); the message says why."""


class Conflict(Exception):
    """The request clashes with what exists (409): already registered, erased, taken."""


class NotFound(Exception):
    """The object does not exist, or the caller may not know it does (404)."""

    def __init__(self, what: str, identifier: str) -> None:
        super().__init__(f"{what} {identifier} does not exist")
        self.what, self.identifier = what, identifier


class Forbidden(Exception):
    """The caller may not do this to that object (403); the message says who may."""


class NotYetKnown(Exception):
    """An event refers to something its consumer has not heard of yet (another stream or consumer
    runs behind): retried on its own short schedule for the wait budget, then dead-lettered."""


class Unreachable(Exception):
    """A server the command needs does not answer (NATS, the database): said in one line."""

    def __init__(self, what: str, where: str, reason: str) -> None:
        super().__init__(f"cannot reach {what} at {where}: {reason}")
        self.what = what


class BadConfiguration(Exception):
    """A setting or a file the operator gave cannot be used; the message says which and why."""
