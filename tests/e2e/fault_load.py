"""The fault run's load: registrations, offers and project publications sent concurrently to
`passerelle up`, which is killed with SIGKILL at seeded random moments and started again.

Every request that got a 2xx is written down in the ledger with what it created; the checker then
looks for its effects. A request cut by a kill got no answer: it is not acknowledged. Those keyed by
the caller (a registration is the caller's `sub`) or by an existing object (publishing) are sent
again once `up` is back, as a client would; a creation whose id the server picks (an offer, a
project) is not, since without an idempotency key a second try could create a second one.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

from .fault_platform import UpProcess

SECRET = "fault-run-secret-that-is-long-enough-for-hs256"
OPERATOR = "fault-operator"

# Eight skills of eight sectors, none narrower, broader or related to another (taxonomy), so that an
# offer answers exactly the needs of its own skill and the expected matches are known in advance.
SKILLS = (
    "health.nursing",
    "education.teaching_primary",
    "energy.solar",
    "agriculture.agronomy",
    "finance.accounting",
    "digital.software_engineering",
    "social.social_work",
    "transport.logistics",
)
MODE = "short_mission"  # on site: the member's origin attachment ties them to the territory


def bearer(sub: str, *roles: str) -> dict[str, str]:
    claims = {"sub": sub, "roles": list(roles) or ["member"], "exp": 4102444800}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


@dataclass(frozen=True)
class Ack:
    """A request answered 2xx: what it created (`key`) and when the answer came (time.time())."""

    kind: str  # territory | register | offer | create | publish
    key: str
    at: float

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


@dataclass
class Ledger:
    seed: int
    acks: list[Ack] = field(default_factory=list)
    kills: list[float] = field(default_factory=list)  # when each SIGKILL was sent
    unanswered: int = 0  # requests cut by a kill
    refused: list[str] = field(default_factory=list)  # answers no client of a sound platform gets


class FaultLoad:
    def __init__(
        self, up: UpProcess, http: httpx.AsyncClient, seed: int, members: int, projects: int, kills: int
    ) -> None:
        assert projects * 2 <= len(SKILLS), "each project needs two skills of its own"
        self.up, self.http = up, http
        self.random = random.Random(seed)
        self.members, self.projects = members, projects
        self.ledger = Ledger(seed)
        self.territory_id = ""
        total = 2 * members + 2 * projects
        # Kill k after a random number of answers in the second half of the run's part k (of kills + 1
        # parts): never at the very start or end, and with a stretch of load between two kills.
        part = total / (kills + 1)
        self.kill_after = [
            self.random.randint(int(part * (k + 0.5)), int(part * (k + 1))) for k in range(kills)
        ]
        self.answers = 0
        self.restarts: list[asyncio.Task[None]] = []
        self._one_restart_at_a_time = asyncio.Lock()
        self.restart_failed: BaseException | None = None

    async def run(self, concurrency: int = 6) -> Ledger:
        territory = await self._send("POST", "/territories", OPERATOR, self._territory(), operator=True)
        assert territory is not None and territory.status_code == 201, "the territory is the run's setup"
        self.territory_id = territory.json()["territory_id"]
        self._acknowledge("territory", self.territory_id)
        journeys = [self._member(index) for index in range(self.members)]
        journeys += [self._project(index) for index in range(self.projects)]
        self.random.shuffle(journeys)
        gate = asyncio.Semaphore(concurrency)

        async def gated(journey: Any) -> None:
            async with gate:
                await journey

        try:
            await asyncio.gather(*(gated(journey) for journey in journeys))
        except RuntimeError:
            await asyncio.gather(*self.restarts)  # a failed restart says why the requests stopped
            raise
        await asyncio.gather(*self.restarts)
        return self.ledger

    # One member: register (again after a kill, as the same person would), then offer a skill.

    async def _member(self, index: int) -> None:
        member_id = f"member-{index:02d}"
        response = await self._until_answered("POST", "/members", member_id, self._profile(index))
        if response.status_code == 201:
            self._acknowledge("register", member_id)
        elif not (response.status_code == 409 and response.retried):
            self._refused(f"register {member_id}", response)
            return
        offer = {"skill": SKILLS[index % len(SKILLS)], "level": 3, "modes": [MODE], "languages": ["fr"]}
        answer = await self._send("POST", f"/members/{member_id}/offers", member_id, offer)
        if answer is not None and answer.status_code == 201:
            self._acknowledge("offer", answer.json()["offer_id"])
        elif answer is not None:
            self._refused(f"offer of {member_id}", answer)

    # One project: created by an operator (once: the server picks its id), then published.

    async def _project(self, index: int) -> None:
        needs = [
            {"skill": skill, "min_level": 2, "mode": MODE, "count": 1}
            for skill in SKILLS[2 * index : 2 * index + 2]
        ]
        body = {
            "territory_id": self.territory_id,
            "title": f"Fault run project {index}",
            "summary": "A project of the fault run.",
            "sector": needs[0]["skill"].split(".")[0],
            "languages": ["fr"],
            "needs": needs,
        }
        created = await self._send("POST", "/projects", OPERATOR, body, operator=True)
        if created is None:
            return
        if created.status_code != 201:
            self._refused(f"create project {index}", created)
            return
        project_id = created.json()["project_id"]
        self._acknowledge("create", project_id)
        publish = f"/projects/{project_id}/publish"
        published = await self._until_answered("POST", publish, OPERATOR, None, operator=True)
        if published.status_code == 200:
            self._acknowledge("publish", project_id)
        elif not (published.status_code == 409 and published.retried):
            self._refused(f"publish {project_id}", published)

    def _territory(self) -> dict[str, Any]:
        return {"name": "Tafraout", "country": "MA", "level": "commune"}

    def _profile(self, index: int) -> dict[str, Any]:
        return {
            "kind": "person",
            "display_name": f"Member {index:02d}",
            "email": f"member-{index:02d}@example.org",
            "locale": "fr",
            "country_of_residence": "BE",
            "time_zone": "Europe/Brussels",
            "languages": ["fr", "ar"],
            "attachments": [{"territory_id": self.territory_id, "bond": "origin"}],
            "sectors": ["health"],
        }

    # Sending, and killing `up` when the drawn number of answers is reached

    async def _until_answered(
        self, method: str, path: str, sub: str, body: Any, operator: bool = False
    ) -> Answer:
        retried = False
        while True:
            response = await self._send(method, path, sub, body, operator)
            if response is not None:
                return Answer(response, retried)
            retried = True

    async def _send(
        self, method: str, path: str, sub: str, body: Any, operator: bool = False
    ) -> httpx.Response | None:
        await self._platform_answers()
        headers = bearer(sub, "operator") if operator else bearer(sub)
        try:
            response: httpx.Response | None = await self.http.request(
                method, self.up.api + path, json=body, headers=headers
            )
        except httpx.TransportError:
            self.ledger.unanswered += 1
            response = None
        self.answers += 1
        if self.kill_after and self.answers >= self.kill_after[0]:
            self.kill_after.pop(0)
            self.restarts.append(asyncio.create_task(self._kill_and_restart()))
        return response

    async def _kill_and_restart(self) -> None:
        delay = self.random.uniform(0, 0.3)  # drawn now, so that the seed alone decides it
        async with self._one_restart_at_a_time:
            await self._platform_answers()
            # A random instant after the drawn answer: mid-request, mid-commit or mid-propagation.
            await asyncio.sleep(delay)
            self.ledger.kills.append(time.time())
            await self.up.kill()
            try:
                await self.up.start()
            except BaseException as error:
                self.restart_failed = error
                self.up.running.set()  # wakes the waiting requests, which then stop the run
                raise

    async def _platform_answers(self) -> None:
        await self.up.running.wait()
        if self.restart_failed is not None:
            raise RuntimeError("passerelle up did not start again after a kill") from self.restart_failed

    def _acknowledge(self, kind: str, key: str) -> None:
        self.ledger.acks.append(Ack(kind, key, time.time()))

    def _refused(self, what: str, response: Answer | httpx.Response) -> None:
        self.ledger.refused.append(f"{what}: {response.status_code} {response.text[:200]}")


class Answer:
    """A response, and whether the request had to be sent again after a kill cut a first try."""

    def __init__(self, response: httpx.Response, retried: bool) -> None:
        self.status_code, self.text, self.retried = response.status_code, response.text, retried
