"""`passerelle up` with its embedded servers is not open to everyone on the machine: its nats-server and
PostgreSQL accept only the credentials it generated in its (private) data dir."""

from __future__ import annotations

import asyncio
import os
import re
import stat
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import nats
import pytest
from nats.errors import Error as NatsError
from passerelle.contracts import ProjectClosed, envelope
from passerelle.embedded import credentials as local_credentials
from passerelle.messaging.authorization import ADMIN, inbox_prefix
from passerelle.runtime.platform import jwt_secret_for

from .up_process import Up, environment_without_settings

SERVICES = ("members", "projects", "matching", "notifications")
SECRET_FILES = ("credentials.json", "nats-admin.url", "postgres-admin.url", "jwt-secret")


@pytest.fixture(scope="module")
async def up(module_up_dir: Path) -> AsyncIterator[Up]:
    running = Up(module_up_dir / "data")
    await running.start()
    try:
        yield running
    finally:
        assert await running.stop() == 0, "passerelle up did not stop cleanly"


def _postgres_port(up: Up) -> int:
    admin_url = (up.data_dir / "postgres-admin.url").read_text().strip()
    return int(re.fullmatch(r"postgresql://[^:]+:[^@]+@127\.0\.0\.1:(\d+)/postgres", admin_url)[1])  # type: ignore[index]


async def test_an_anonymous_nats_client_is_refused_by_up(up: Up) -> None:
    with pytest.raises(NatsError):
        await asyncio.wait_for(
            nats.connect(up.ready_fields()["nats"], allow_reconnect=False, connect_timeout=2), 15
        )


async def test_postgres_under_up_refuses_whoever_has_no_password(up: Up) -> None:
    port = _postgres_port(up)
    for user, database in [
        ("postgres", "postgres"),
        *((f"passerelle_{s}", f"passerelle_{s}") for s in SERVICES),
    ]:
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(host="127.0.0.1", port=port, user=user, database=database, timeout=10)
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(
            host="127.0.0.1", port=port, user="postgres", password="guessed", database="postgres", timeout=10
        )


async def test_each_service_database_is_reachable_only_by_its_own_role(up: Up) -> None:
    port, passwords = _postgres_port(up), up.credentials()["postgres"]
    members = await asyncpg.connect(
        host="127.0.0.1",
        port=port,
        user="passerelle_members",
        password=passwords["passerelle_members"],
        database="passerelle_members",
        timeout=10,
    )
    try:
        owners = await members.fetch("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
        assert [row["tableowner"] for row in owners] == ["passerelle_members"]
    finally:
        await members.close()
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await asyncpg.connect(
            host="127.0.0.1",
            port=port,
            user="passerelle_members",
            password=passwords["passerelle_members"],
            database="passerelle_notifications",
            timeout=10,
        )


async def test_the_members_user_cannot_publish_into_another_services_stream_under_up(up: Up) -> None:
    password = up.credentials()["nats"]["members"]
    violations: list[str] = []

    async def on_error(error: Exception) -> None:
        violations.append(str(error).lower())

    members = await nats.connect(
        up.ready_fields()["nats"],
        user="members",
        password=password,
        inbox_prefix=inbox_prefix("members"),
        error_cb=on_error,
    )
    try:
        js = members.jetstream(timeout=2)
        forged = envelope(ProjectClosed(project_id="p-1", outcome="cancelled"))
        with pytest.raises((NatsError, asyncio.TimeoutError)):
            await js.publish(
                ProjectClosed.subject, forged.to_json(), stream="PROJECTS", headers=forged.nats_headers()
            )
        await members.flush()
    finally:
        await members.close()
    assert any('publish to "projects.project_closed.v1"' in violation for violation in violations), violations
    admin = await nats.connect((up.data_dir / "nats-admin.url").read_text().strip())
    try:
        assert (await admin.jetstream().stream_info("PROJECTS")).state.messages == 0
    finally:
        await admin.close()


async def test_the_admin_urls_in_the_data_dir_reach_nats_and_every_service_database(up: Up) -> None:
    nats_url = (up.data_dir / "nats-admin.url").read_text()
    assert nats_url.count("\n") == 1 and nats_url.endswith("\n")
    assert re.fullmatch(rf"nats://{ADMIN}:[^@:]+@127\.0\.0\.1:\d+", nats_url.strip())
    admin = await nats.connect(nats_url.strip())
    try:
        assert (await admin.jetstream().stream_info("MEMBERS")).config.name == "MEMBERS"
    finally:
        await admin.close()
    postgres_url = (up.data_dir / "postgres-admin.url").read_text()
    assert postgres_url.count("\n") == 1
    for service in SERVICES:
        checker = await asyncpg.connect(postgres_url.strip().rsplit("/", 1)[0] + f"/passerelle_{service}")
        try:
            assert await checker.fetchval("SELECT count(*) FROM alembic_version") == 1
        finally:
            await checker.close()


async def test_the_ready_line_and_the_output_of_up_show_no_secret(up: Up) -> None:
    assert up.ready_fields()["nats"].startswith("nats://127.0.0.1:")
    assert "@" not in up.ready
    credentials = up.credentials()
    secrets = [*credentials["nats"].values(), *credentials["postgres"].values()]
    secrets.append((up.data_dir / "jwt-secret").read_text().strip())
    said = "\n".join(up.printed) + (up.data_dir.parent / f"{up.data_dir.name}-up.log").read_text()
    assert [secret for secret in secrets if secret in said] == []


async def test_up_keeps_its_secrets_in_files_only_its_user_may_read(up: Up) -> None:
    for name in SECRET_FILES:
        assert stat.S_IMODE((up.data_dir / name).stat().st_mode) == 0o600, name
    _assert_private_directory(up.data_dir)


def _assert_private_directory(path: Path) -> None:
    """0700; as root, PostgreSQL's own system user may also traverse it (through its group), no more."""
    info = path.stat()
    mode = stat.S_IMODE(info.st_mode)
    if os.geteuid() == 0 and mode & stat.S_IXGRP:
        import grp

        assert grp.getgrgid(info.st_gid).gr_name == "passerelle-pg"
        assert mode == 0o710
    else:
        assert mode == 0o700


def test_the_signing_secret_and_its_data_dir_are_private_from_their_creation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Created with their final mode, not widened and then narrowed: with every later change of mode
    made impossible, they are still 0600 and 0700 under the usual umask."""
    for module, name in [(os, "chmod"), (os, "fchmod"), (Path, "chmod")]:
        monkeypatch.setattr(module, name, lambda *_args, **_kwargs: None)
    previous = os.umask(0o022)
    try:
        data_dir = tmp_path / "new" / "data"
        secret = jwt_secret_for(data_dir)
    finally:
        os.umask(previous)
    assert len(secret.get_secret_value()) >= 32
    assert stat.S_IMODE((data_dir / "jwt-secret").stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    local_credentials.LocalCredentials.load_or_create(data_dir, ["members"], ["passerelle_members"])
    assert stat.S_IMODE((data_dir / "credentials.json").stat().st_mode) == 0o600


async def test_the_tools_find_the_credentials_of_up_in_its_data_dir(up: Up) -> None:
    async def tool(*arguments: str) -> str:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "passerelle.cli",
            *arguments,
            "--data-dir",
            str(up.data_dir),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environment_without_settings(),
        )
        out, err = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode == 0, err.decode()
        return out.decode()

    assert (await tool("dlq", "list")).strip().endswith("0 dead letter(s)")
    assert "MEMBERS" in await tool("nats", "provision")
    signed = (await tool("token", "--sub", "fatima", "--role", "member")).strip()
    async with httpx.AsyncClient(base_url=up.api, timeout=30) as http:
        answer = await http.get("/members/fatima", headers={"Authorization": f"Bearer {signed}"})
    assert answer.status_code == 404, answer.text  # signed with up's secret: known, just not registered
