"""Fixtures of the tests that run `passerelle up` with its own embedded servers."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _outside_pytest_tmp() -> Iterator[Path]:
    # Not under pytest's tmp_path: pytest makes /tmp/pytest-of-<user> 0700 again whenever a session
    # starts, which shuts the embedded PostgreSQL's own system user out of its cluster mid-test.
    path = Path(tempfile.mkdtemp(prefix="passerelle-e2e-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def up_dir() -> Iterator[Path]:
    """A fresh directory for one test's `up` data dir and servers."""
    yield from _outside_pytest_tmp()


@pytest.fixture(scope="module")
def module_up_dir() -> Iterator[Path]:
    """The same, shared by the tests of one module."""
    yield from _outside_pytest_tmp()
