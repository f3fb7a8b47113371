"""The portal's pages, one module each: `routes(portal)` gives its routes."""

from . import desk, manage, me, notifications, offers, owner, profile, public, register, signin

PAGES = (public, signin, register, me, profile, offers, notifications, owner, desk, manage)
