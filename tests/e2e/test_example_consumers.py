"""The two example consumers (examples/), run as a new team runs them against `passerelle up` started
with their declaration: each stores a member who registers and forgets them once erased."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx

from .up_process import Up

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ("natspy_consumer.py", "faststream_consumer.py")
PROFILE = {
    "kind": "person",
    "display_name": "Fatima",
    "email": "fatima@example.org",
    "locale": "fr",
    "country_of_residence": "BE",
    "time_zone": "Europe/Brussels",
}


async def run_example(script: str, up: Up, store: Path) -> str:
    """The example until it has handled one event; what it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "examples" / script),
        "--data-dir",
        str(up.data_dir),
        "--store",
        str(store),
        "--stop-after",
        "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, output.decode()
    return output.decode()


async def test_each_example_consumer_stores_a_registered_member_and_erases_them_on_member_erased(
    up_dir: Path, tmp_path: Path
) -> None:
    up = Up(up_dir / "data", {"PASSERELLE_NATS_CONSUMERS_FILE": str(ROOT / "examples" / "consumers.toml")})
    await up.start()
    try:
        async with httpx.AsyncClient(base_url=up.api, timeout=30) as client:
            registered = await client.post("/members", json=PROFILE, headers=up.token("fatima"))
            assert registered.status_code == 201, registered.text
            for script in EXAMPLES:
                assert "stored member fatima" in await run_example(script, up, tmp_path / f"{script}.db")
            erased = await client.delete("/members/fatima", headers=up.token("fatima"))
            assert erased.status_code == 202, erased.text
            for script in EXAMPLES:
                assert "erased member fatima" in await run_example(script, up, tmp_path / f"{script}.db")
    finally:
        assert await up.stop() == 0
