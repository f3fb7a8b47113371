"""Which database errors are the input's fault: one check for the HTTP layer and the delivery policy
(no I/O)."""

from __future__ import annotations

import asyncpg
from asyncpg.exceptions import _base as asyncpg_client
from passerelle.persistence.database import refused_by_database
from sqlalchemy.exc import DBAPIError


def _wrapped(cause: BaseException) -> DBAPIError:
    """As SQLAlchemy raises it: the driver's error as `orig`, its cause below."""
    adapted = Exception("adapted")
    adapted.__cause__ = cause
    return DBAPIError("INSERT ...", {}, adapted)


def test_a_value_the_server_refuses_or_asyncpg_cannot_send_is_the_input_s_fault() -> None:
    assert refused_by_database(_wrapped(asyncpg.StringDataRightTruncationError("value too long")))
    assert refused_by_database(_wrapped(asyncpg.CharacterNotInRepertoireError("invalid byte sequence")))
    assert refused_by_database(_wrapped(asyncpg_client.DataError("invalid input for query argument $1")))


def test_a_failing_server_or_a_conflict_is_not_the_input_s_fault() -> None:
    assert not refused_by_database(_wrapped(asyncpg.UniqueViolationError("duplicate key")))
    assert not refused_by_database(_wrapped(asyncpg.ConnectionDoesNotExistError("connection lost")))
    assert not refused_by_database(_wrapped(Exception("invalid input for query argument $1")))
