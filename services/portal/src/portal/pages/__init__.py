"""The portal's pages, one module each: `routes(portal)` gives its routes (one line per module, in the
order their routes are tried)."""

from . import (
    desk,
    financing,
    gatherings,
    ideas,
    manage,
    me,
    notifications,
    offers,
    opportunities,
    opportunity_desk,
    owner,
    profile,
    public,
    register,
    signin,
    threads,
)

PAGES = (
    public,
    signin,
    register,
    me,
    profile,
    offers,
    notifications,
    owner,
    desk,
    manage,
    threads,
    financing,
    gatherings,
    ideas,
    opportunities,
    opportunity_desk,
)
