"""The embedded servers' supervision, secrets and URLs, without starting a server."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from passerelle.embedded import credentials, postgres, supervision
from passerelle.embedded.credentials import read_or_create_secret, user_url, without_secret, write_private
from passerelle.embedded.postgres import EmbeddedPostgres
from passerelle.embedded.supervision import EmbeddedServerError, stop_stale_servers


def test_nats_urls_keep_their_host_as_written_when_credentials_go_in_or_out() -> None:
    assert user_url("nats://[::1]:4222", "admin", "p@ss") == "nats://admin:p%40ss@[::1]:4222"
    assert user_url("nats://nats.local", "admin", "pw") == "nats://admin:pw@nats.local"
    assert without_secret("nats://admin:pw@[::1]:4222") == "nats://admin:***@[::1]:4222"
    assert without_secret("tls://nats.local") == "tls://nats.local"


def test_an_embedded_postgres_on_ipv6_gives_urls_with_brackets() -> None:
    server = EmbeddedPostgres(data_dir=Path("/nowhere"), host="::1", port=5433, password="pw")
    assert (
        server.url("passerelle_members") == "postgresql+asyncpg://postgres:pw@[::1]:5433/passerelle_members"
    )
    assert server.admin_url() == "postgresql://postgres:pw@[::1]:5433/postgres"


def test_a_private_file_that_cannot_be_written_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(_: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(credentials.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_private(tmp_path / "credentials.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_two_callers_creating_a_secret_at_once_both_keep_the_one_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "jwt-secret"

    def created_meanwhile_by_another_caller() -> str:
        path.write_text("theirs\n")
        return "mine"

    assert read_or_create_secret(path, created_meanwhile_by_another_caller) == "theirs"
    assert path.read_text() == "theirs\n"
    assert [entry.name for entry in tmp_path.iterdir()] == ["jwt-secret"]


async def test_the_initdb_password_file_is_removed_when_writing_it_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = EmbeddedPostgres(data_dir=tmp_path / "postgres", password="secret")

    def disk_full(*_: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(postgres.os, "write", disk_full)
    with pytest.raises(OSError, match="No space"):
        await server._initdb(tmp_path, str(server.data_dir), None)
    monkeypatch.undo()
    assert not os.listdir(tmp_path)


async def test_a_failed_superuser_password_change_never_shows_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    commands: list[list[str]] = []

    def fails(command: list[str], user: str | None, stdin: bytes | None = None) -> Any:
        commands.append(command)
        said = b"ERROR:  role is locked\nSTATEMENT:  ALTER ROLE postgres PASSWORD 's3cret-pw';\n"
        return subprocess.CompletedProcess(command, 1, b"", said)

    monkeypatch.setattr(postgres, "_run", fails)
    server = EmbeddedPostgres(data_dir=Path("/nowhere"), password="s3cret-pw")
    with pytest.raises(EmbeddedServerError) as raised:
        await server._set_superuser_password(Path("/bin"), "/nowhere", None)
    assert "s3cret-pw" not in str(raised.value)
    assert "log_min_error_statement=panic" in commands[0]


async def test_a_stale_server_of_another_user_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_yours(pid: int, sig: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(supervision, "servers_of", lambda program, data_dir: [4242])
    monkeypatch.setattr(supervision.os, "kill", not_yours)
    with pytest.raises(EmbeddedServerError, match="another user"):
        await stop_stale_servers("postgres", Path("/data"), stop_signal=signal.SIGINT)


async def test_a_stale_server_that_survives_sigkill_is_raised_instead_of_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    signals: list[int] = []
    monkeypatch.setattr(supervision, "servers_of", lambda program, data_dir: [4242])
    monkeypatch.setattr(supervision, "is_server_of", lambda pid, program, data_dir: True)
    monkeypatch.setattr(supervision.os, "kill", lambda pid, sig: signals.append(sig))
    stopping = stop_stale_servers("nats-server", Path("/data"), stop_signal=signal.SIGTERM, timeout=0.2)
    with pytest.raises(EmbeddedServerError, match="survives SIGKILL"):
        await asyncio.wait_for(stopping, 30)  # a guard: before, this waited for ever
    assert signals == [signal.SIGTERM, signal.SIGKILL]
