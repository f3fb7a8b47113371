"""The errors a service's domain raises when a rule is broken: plain Python, no framework. The HTTP
layer turns them into problems once for every service (runtime/problems.py)."""

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
