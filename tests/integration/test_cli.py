"""The `passerelle` command as an operator meets it: a version, one line and a distinct exit code for
each kind of failure (the traceback only with --debug), and the DLQ as JSON for scripts."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import nats
from passerelle.messaging.dead_letters import CONSUMER, DELIVERIES, ERROR, FAILED_AT, ORIGINAL_SUBJECT
from passerelle.messaging.topology import TopologySettings, provision
from passerelle.runtime.service import consumed_events


async def passerelle(*args: str, **environment: str) -> tuple[int, str, str]:
    kept = {name: value for name, value in os.environ.items() if not name.startswith("PASSERELLE_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "passerelle.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**kept, **environment},
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_passerelle_version_names_the_release() -> None:
    code, out, _ = await passerelle("--version")
    assert code == 0 and out.startswith("passerelle 0.")


async def test_an_unreachable_nats_is_one_line_and_exit_code_3_within_seconds() -> None:
    code, _, err = await passerelle("dlq", "list", PASSERELLE_NATS_URL="nats://127.0.0.1:1")
    assert code == 3
    assert err.strip().splitlines() == [
        "passerelle dlq: cannot reach NATS at nats://127.0.0.1:1: nats: no servers available for connection"
    ]


async def test_an_unreachable_database_is_exit_code_4_and_debug_shows_the_traceback() -> None:
    url = "postgresql+asyncpg://u:secret@127.0.0.1:1/x"
    code, _, err = await passerelle("db", "upgrade", "members", "--database-url", url)
    assert code == 4 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "secret" not in err
    code, _, err = await passerelle("--debug", "db", "upgrade", "members", "--database-url", url)
    assert code == 1 and "Traceback" in err


async def test_bad_configuration_is_exit_code_5_naming_the_variable() -> None:
    code, _, err = await passerelle("dlq", "list", PASSERELLE_CONSUMER_BATCH="many")
    assert code == 5 and "PASSERELLE_CONSUMER_BATCH" in err and len(err.strip().splitlines()) == 1


async def test_serve_offers_the_installed_services_and_refuses_others() -> None:
    code, _, err = await passerelle("serve", "nowhere")
    assert code == 2 and "members" in err and "notifications" in err


async def test_dlq_list_json_gives_one_object_per_letter(clean_nats: str) -> None:
    connection = await nats.connect(clean_nats)
    try:
        await provision(connection.jetstream(), TopologySettings(), consumed_events())
        headers = {
            ORIGINAL_SUBJECT: "members.member_erased.v1",
            CONSUMER: "matching__MemberErased_v1",
            DELIVERIES: "5",
            ERROR: "boom",
            FAILED_AT: "2026-12-01T10:00:00Z",
        }
        await connection.jetstream().publish(
            "dlq.matching__MemberErased_v1.members.member_erased.v1", b'{"id": "e-1"}', headers=headers
        )
    finally:
        await connection.close()
    code, out, err = await passerelle("dlq", "list", "--json", PASSERELLE_NATS_URL=clean_nats)
    assert code == 0, err
    [letter] = [json.loads(line) for line in out.splitlines()]
    assert letter["consumer"] == "matching__MemberErased_v1" and letter["error"] == "boom"
    assert letter["payload"] == '{"id": "e-1"}'
