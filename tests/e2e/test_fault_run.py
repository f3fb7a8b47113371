"""The fault run (issue 14, point 13): a bounded load against `passerelle up`, two SIGKILLs at seeded
random moments, a restart on the same data dir each time, and then the run's own checker on every
request that got a 2xx. Set PASSERELLE_FAULT_SEED to replay a run's draws."""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from pathlib import Path

import asyncpg
import httpx
import pytest
from passerelle.embedded.ports import free_port

from .fault_checker import Observed, check, expected, observe, wait_until_quiet
from .fault_load import SECRET, Ack, FaultLoad, Ledger
from .fault_platform import Servers, UpProcess

# "external": `up` on servers the tests start, so that a kill of `up` kills only the services.
# "embedded": `up` on its own nats-server and PostgreSQL, found through the admin URLs it writes in
# its data dir; it needs `up` to take its servers down with it and clean up after a crash (point 5).
# PASSERELLE_FAULT_SERVERS=embedded (or "external,embedded") chooses for one run.
SERVERS = os.environ.get("PASSERELLE_FAULT_SERVERS", "embedded").split(",")

MEMBERS, PROJECTS, KILLS = 40, 4, 2  # five offers per need: all within matching's top 10
# Seconds for the platform to finish what is on its way after the load: more than its longest
# recovery, an e-mail claimed by a killed `up`, tried again once the claim lapses (after 20 s), and
# events delivered to a killed process, back after the ack wait.
QUIET_WITHIN = 90.0

# The platform's delays, shortened to fit the run in about a minute: an event delivered to a killed
# process comes back after the ack wait (60 s by default), and retries follow their delays.
UP_ENV = {
    "PASSERELLE_JWT_SECRET": SECRET,
    "PASSERELLE_LOG_LEVEL": "WARNING",
    "PASSERELLE_CONSUMER_ACK_WAIT": "5",
    "PASSERELLE_RETRY_DELAYS": "[1, 2, 5, 10]",
    "PASSERELLE_DISPATCH_INTERVAL": "0.2",
}


@pytest.fixture(params=SERVERS)
def external_servers(request: pytest.FixtureRequest) -> Servers | None:
    if request.param == "embedded":
        return None
    return Servers(request.getfixturevalue("clean_nats"), request.getfixturevalue("postgres_url"))


async def _drop_platform_databases(servers: Servers) -> None:
    admin = await asyncpg.connect(**{**servers.database("members"), "database": "postgres"})
    try:
        for service in ("members", "projects", "matching", "notifications"):
            await admin.execute(f'DROP DATABASE IF EXISTS "passerelle_{service}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_after_two_sigkills_under_load_every_acknowledged_request_has_all_its_effects_once(
    external_servers: Servers | None, capsys: pytest.CaptureFixture[str]
) -> None:
    if external_servers is not None:
        await _drop_platform_databases(external_servers)
    seed = int(os.environ.get("PASSERELLE_FAULT_SEED") or random.randrange(2**32))
    mode = "external" if external_servers else "embedded"
    # Not under tmp_path: pytest makes /tmp/pytest-of-<user> 0700 again whenever a session starts,
    # which would shut out the embedded PostgreSQL's own user in the middle of the run. Kept if it fails.
    run_dir = Path(tempfile.mkdtemp(prefix="passerelle-fault-run-"))
    with capsys.disabled():
        print(f"\nfault run: seed={seed} servers={mode} data={run_dir}", flush=True)
    up = UpProcess(run_dir / "data", free_port(), UP_ENV, external_servers)
    await up.start()
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            ledger = await FaultLoad(up, http, seed, MEMBERS, PROJECTS, KILLS).run()
        still_on_its_way, waited = await wait_until_quiet(up.servers(), QUIET_WITHIN)
        seen = await observe(up.servers(), up.data_dir / "mail")
    finally:
        stopped = await up.stop()
    verdict = check(ledger, seen)
    with capsys.disabled():
        print(verdict.summary(), flush=True)
        print(
            f"  {verdict.checked} effects checked; {ledger.unanswered} requests cut by the kills;"
            f" `up` started {up.starts} times; quiet {waited:.0f} s after the load;"
            f" e-mails written again after a kill: {len(verdict.resent)}",
            flush=True,
        )
        for problem in verdict.problems:
            print(f"  {problem}", flush=True)
    assert len(ledger.kills) == KILLS and up.starts == KILLS + 1
    assert not still_on_its_way, f"still on its way after {QUIET_WITHIN}s: {still_on_its_way}"
    assert verdict.lost == 0 and verdict.duplicated == 0, verdict.problems
    assert verdict.half == 0 and verdict.unexpected == 0, verdict.problems
    assert verdict.problems == []  # and so no outbox row left, nothing dead-lettered or refused
    assert stopped == 0, "passerelle up did not stop cleanly after the run"
    shutil.rmtree(run_dir, ignore_errors=True)


# The checker itself, on states built by hand: it must be able to fail.


def _complete_state() -> tuple[Ledger, Observed]:
    """One territory, member, offer and published project, every effect once and on time."""
    ledger = Ledger(seed=0)
    for kind, key in [
        ("territory", "t"),
        ("register", "m"),
        ("offer", "o"),
        ("create", "p"),
        ("publish", "p"),
    ]:
        ledger.acks.append(Ack(kind, key, at=100.0))
    seen = Observed()
    seen.offers["o"] = ("m", "health.nursing")
    seen.needs["p"] = [("n", "health.nursing")]
    seen.match_ids[("n", "o")] = "match-1"
    for effect in expected(ledger, seen):
        if effect[0] == "notice":
            seen.notification_ids[effect] = f"notification-{len(seen.notification_ids)}"
            if effect[2] == "email":
                seen.message_ids[effect] = f"message-{len(seen.message_ids)}"
    for effect in expected(ledger, seen):
        seen.add(effect, at=100.2)
        if effect[0] == "event":
            seen.event_ids[f"event-{len(seen.event_ids)}"] = 1
    seen.outbox = {"members": 0, "projects": 0, "matching": 0, "notifications": 0}
    return ledger, seen


def test_the_checker_passes_a_state_where_every_effect_is_there_once() -> None:
    verdict = check(*_complete_state())
    assert verdict.summary() == "fault run: acknowledged=5 lost=0 duplicated=0 late=0"
    assert verdict.problems == []


def test_the_checker_counts_a_registration_whose_welcome_is_missing_as_lost() -> None:
    ledger, seen = _complete_state()
    del seen.effects[("notice", "welcome", "inbox", "m", "m", "delivered")]
    verdict = check(ledger, seen)
    assert verdict.lost == 1 and "lost: register m answered 2xx" in verdict.problems[0]


def test_the_checker_counts_a_match_missing_in_matching_against_both_the_offer_and_the_publication() -> None:
    ledger, seen = _complete_state()
    del seen.effects[("match", "n", "o", "m", "proposed")]
    assert check(ledger, seen).lost == 3  # the offer, the publication and the member's registration


def test_the_checker_counts_a_second_inbox_row_and_an_event_stored_twice_as_duplicated() -> None:
    ledger, seen = _complete_state()
    seen.add(("notice", "match_proposed", "inbox", "m", "match-1", "delivered"))
    seen.event_ids["event-0"] += 1
    assert check(ledger, seen).duplicated == 2


def test_the_checker_finds_half_of_a_request_cut_by_a_kill_that_did_commit() -> None:
    ledger, seen = _complete_state()
    seen.add(("member", "cut"))  # registered, though its client got no answer
    verdict = check(ledger, seen)
    assert verdict.lost == 0 and verdict.half == 6  # its three read models, its event and its two welcomes


def test_the_checker_counts_effects_that_came_only_after_a_kill_as_late() -> None:
    ledger, seen = _complete_state()
    ledger.kills.append(100.5)
    seen.times[("notice", "welcome", "email", "m", "m", "delivered")] = 130.0
    assert check(ledger, seen).late == 1


def test_the_checker_counts_an_e_mail_notice_without_its_e_mail_as_lost_and_one_sent_twice_apart() -> None:
    ledger, seen = _complete_state()
    del seen.effects[("mail", "message-0")]
    seen.add(("mail", "message-1"))
    verdict = check(ledger, seen)
    assert verdict.lost == 1 and verdict.duplicated == 0
    assert verdict.resent == ["mail/message-1 x2"]


def test_the_checker_reports_outbox_rows_left_and_dead_letters() -> None:
    ledger, seen = _complete_state()
    seen.outbox["matching"] = 2
    seen.dead_letters.append("dlq.matching: ...")
    problems = check(ledger, seen).problems
    assert any("outbox rows left" in p for p in problems) and any("dead-lettered" in p for p in problems)
