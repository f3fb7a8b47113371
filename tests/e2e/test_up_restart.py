"""`passerelle up` after a crash: `kill -9` leaves no server behind, and the next `up` on the same data dir
starts and continues with the same data, stopping first whatever stale server of that dir still runs,
and nothing else."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats
from passerelle.embedded.nats import EmbeddedNats
from passerelle.embedded.ports import free_port
from passerelle.embedded.postgres import EmbeddedPostgres
from passerelle.messaging.topology import TopologySettings, provision
from passerelle.runtime.platform import prepare_database, service_database_url
from passerelle.runtime.service import consumed_events, load_services

from ..harness import eventually
from .up_process import Up, alive, processes_naming


async def _register_fatima(up: Up) -> str:
    async with httpx.AsyncClient(base_url=up.api, timeout=30) as http:
        territory = await http.post(
            "/territories",
            json={"name": "Tafraout", "country": "MA", "level": "commune"},
            headers=up.token("op", "operator"),
        )
        assert territory.status_code == 201, territory.text
        territory_id: str = territory.json()["territory_id"]
        member = await http.post("/members", json=_profile(territory_id), headers=up.token("fatima"))
        assert member.status_code == 201, member.text
    return territory_id


def _profile(territory_id: str) -> dict[str, Any]:
    return {
        "kind": "person",
        "display_name": "Fatima El Amrani",
        "email": "fatima@example.org",
        "locale": "fr",
        "country_of_residence": "BE",
        "time_zone": "Europe/Brussels",
        "languages": ["fr", "ar"],
        "attachments": [{"territory_id": territory_id, "bond": "origin"}],
        "sectors": ["health"],
    }


async def _still_there(up: Up, territory_id: str) -> None:
    async with httpx.AsyncClient(base_url=up.api, timeout=30) as http:
        member = await http.get("/members/fatima", headers=up.token("fatima"))
        assert member.status_code == 200, member.text
        assert member.json()["display_name"] == "Fatima El Amrani"
        territory = await http.get(f"/territories/{territory_id}", headers=up.token("fatima"))
        assert territory.status_code == 200, territory.text


async def test_up_killed_with_sigkill_starts_again_on_its_data_dir_with_the_same_data(up_dir: Path) -> None:
    data_dir = up_dir / "data"
    first = Up(data_dir)
    await first.start()
    territory_id = await _register_fatima(first)
    await first.kill()

    # Its servers go with it: none keeps the JetStream store or the cluster's lock.
    async def orphans_gone() -> bool:
        return processes_naming(data_dir) == []

    await eventually(orphans_gone, timeout=60)

    again = Up(data_dir)
    await again.start()
    try:
        await _still_there(again, territory_id)
    finally:
        assert await again.stop() == 0, "passerelle up did not stop cleanly"
    assert processes_naming(data_dir) == []  # a clean stop leaves no orphan either


async def test_up_stops_the_stale_servers_of_its_data_dir_from_before_credentials_and_nothing_else(
    up_dir: Path,
) -> None:
    """A data dir left by a crashed `up` from before credentials: its nats-server (started without a pid
    file) and its password-less PostgreSQL still run. The next `up` stops them, locks the servers with
    new credentials and works on the same databases; another nats-server, and a process whose pid a
    pid file names, are left alone."""
    data_dir = up_dir / "data"
    stale_nats = EmbeddedNats(store_dir=data_dir / "nats", port=free_port())
    await stale_nats.start()
    connection = await nats.connect(stale_nats.url)  # the old `up` provisioned as an anonymous client
    await provision(connection.jetstream(), TopologySettings(), consumed_events())
    await connection.close()
    stale_postgres = EmbeddedPostgres(data_dir=data_dir / "postgres", port=free_port())
    await stale_postgres.start()
    for definition in load_services():
        await prepare_database(definition, service_database_url(stale_postgres.url(), definition.name))
    other_nats = EmbeddedNats(store_dir=up_dir / "other-nats", port=free_port())
    await other_nats.start()
    bystander = await asyncio.create_subprocess_exec("sleep", "600")
    # Its pid file names someone else now: only the command line tells which server is that dir's.
    (data_dir / "nats" / "nats-server.pid").write_text(f"{bystander.pid}\n")

    up = Up(data_dir)
    try:
        await up.start()
        assert stale_nats.process is not None and stale_nats.process.wait(30) is not None
        assert stale_postgres.process is not None and stale_postgres.process.wait(30) is not None
        assert other_nats.process is not None and other_nats.process.poll() is None
        assert alive(bystander.pid)
        territory_id = await _register_fatima(up)
        await _still_there(up, territory_id)
        port = int((data_dir / "postgres-admin.url").read_text().strip().rsplit(":", 1)[1].split("/")[0])
        try:
            await asyncpg.connect(
                host="127.0.0.1", port=port, user="postgres", database="postgres", timeout=10
            )
        except asyncpg.InvalidPasswordError:
            pass
        else:
            raise AssertionError("the cluster made without a password still lets anyone in")
    finally:
        stopped = await up.stop()
        bystander.kill()
        await bystander.wait()
        for server in (other_nats, stale_nats, stale_postgres):
            await server.stop()
    assert stopped == 0, "passerelle up did not stop cleanly"
