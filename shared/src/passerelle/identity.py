"""Who acts: an identity (a token's `sub` and its roles), plain Python that use cases import without
any web framework. runtime/auth.py makes one from a verified token."""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError

from passerelle.contracts import ERASED_OWNER
from passerelle.contracts.types import Identifier

# What an erased identity's token, valid until it expires, is told by every service.
ERASED_IDENTITY = "this identity was erased: it acts on nothing any more"
ROLES = frozenset({"member", "territory_manager", "community_manager", "operator"})
_IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)
# Unicode categories no identity contains: controls, formats (invisible), surrogates, private use,
# unassigned, and separators (spaces, line and paragraph separators).
_NOT_IN_IDS = ("C", "Z")


@dataclass(frozen=True)
class Identity:
    sub: str
    roles: frozenset[str]

    @property
    def is_operator(self) -> bool:
        return "operator" in self.roles

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def identity_fault(sub: object) -> str | None:
    """Why `sub` cannot name an identity, or None when it can.

    An identity is an id (the events' Identifier) with nothing invisible in it, and never the marker
    that stands for an erased member: whoever held it would own everything erased members left behind.
    """
    if not isinstance(sub, str) or not sub:
        return "it is not a non-empty string"
    try:
        _IDENTIFIER.validate_python(sub)
    except ValidationError as error:
        return str(error.errors()[0]["msg"])
    if any(unicodedata.category(character).startswith(_NOT_IN_IDS) for character in sub):
        return "it holds a space, a control or an invisible character"
    if sub == ERASED_OWNER:
        return f"{ERASED_OWNER!r} stands for erased members and is nobody's identity"
    return None


async def grantee_fault(sub: str, was_erased: Callable[[str], Awaitable[bool]]) -> str | None:
    """Why `sub` cannot be given a right (manage a member, own a project, manage a territory), or None.

    Who is given a right is someone who may sign in: an identity, and not an erased one, whose
    token would otherwise act again. `was_erased` is the service's own knowledge of erasures.
    """
    fault = identity_fault(sub)
    if fault is None and await was_erased(sub):
        fault = "it was erased"
    return fault


def roles_of(claim: object) -> frozenset[str] | None:
    """The known roles of a `roles` claim (a list of names, or one string of names with spaces);
    None when the claim is neither."""
    if isinstance(claim, str):
        claim = claim.split()
    if not isinstance(claim, list) or not all(isinstance(role, str) for role in claim):
        return None
    return frozenset(role for role in claim if role in ROLES)
