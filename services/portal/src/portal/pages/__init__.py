"""The portal's pages, one module each: `routes(portal)` gives its routes."""

from . import (
    desk,
    financing,
    manage,
    me,
    notifications,
    offers,
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
)
