"""An in-memory projects repository: what the use cases read and write, without PostgreSQL."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from passerelle.contracts import ERASED_OWNER
from projects.domain import ERASED_KIND, MemberFacts, Project, Territory
from projects.orm import PledgeRow, TerritoryRoleRow


class FakeProjects:
    def __init__(self) -> None:
        self.territories_by_id: dict[str, Territory] = {}
        self.roles_held: list[TerritoryRoleRow] = []
        self.projects: dict[str, Project] = {}
        self.ledger: list[PledgeRow] = []
        self.members: dict[str, MemberFacts] = {}

    async def territory(self, territory_id: str) -> Territory | None:
        return self.territories_by_id.get(territory_id)

    async def add_territory(self, territory: Territory) -> None:
        self.territories_by_id[territory.territory_id] = territory

    async def lineage(self, territory_id: str) -> list[str]:
        chain, territory = [], self.territories_by_id.get(territory_id)
        while territory is not None:
            chain.append(territory.territory_id)
            territory = self.territories_by_id.get(territory.parent_id or "")
        return chain

    async def roles(self, territory_id: str) -> list[TerritoryRoleRow]:
        return [role for role in self.roles_held if role.territory_id == territory_id]

    async def grant(self, territory_id: str, sub: str, role: str, granted_by: str) -> bool:
        held = {(r.territory_id, r.sub, r.role) for r in self.roles_held}
        if (territory_id, sub, role) in held:
            return False
        self.roles_held.append(
            TerritoryRoleRow(territory_id=territory_id, sub=sub, role=role, granted_by=granted_by)
        )
        return True

    async def manages_any(self, sub: str, territory_ids: Collection[str]) -> bool:
        return any(role.sub == sub and role.territory_id in territory_ids for role in self.roles_held)

    async def project(self, project_id: str, *, for_update: bool = False) -> Project | None:
        return self.projects.get(project_id)

    async def save_project(self, project: Project) -> None:
        self.projects[project.project_id] = project

    async def add_pledge(self, pledge: PledgeRow) -> None:
        self.ledger.append(pledge)

    async def pledges(self, project_id: str) -> list[PledgeRow]:
        return [pledge for pledge in self.ledger if pledge.project_id == project_id]

    async def member(self, member_id: str) -> MemberFacts | None:
        return self.members.get(member_id)

    async def was_erased(self, member_id: str) -> bool:
        member = self.members.get(member_id)
        return member is not None and member.erased

    async def remember_member(self, facts: MemberFacts, as_of: datetime) -> None:
        self.members[facts.member_id] = facts

    async def forget_member(self, member_id: str) -> tuple[list[tuple[str, str]], list[str]]:
        self.members[member_id] = MemberFacts(member_id, ERASED_KIND, [])
        for pledge in self.ledger:
            if pledge.member_id == member_id:
                pledge.member_id = None
        owned = sorted(key for key, project in self.projects.items() if project.owner_member_id == member_id)
        for project_id in owned:
            self.projects[project_id] = replace(self.projects[project_id], owner_member_id=ERASED_OWNER)
        roles = [(role.territory_id, role.role) for role in self.roles_held if role.sub == member_id]
        self.roles_held = [role for role in self.roles_held if role.sub != member_id]
        for key, facts in self.members.items():
            if member_id in facts.managers:
                self.members[key] = replace(facts, managers=[m for m in facts.managers if m != member_id])
        return roles, owned
