"""passerelle-contracts stays light: what a consumer installs beside its own pins."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def test_the_contracts_distribution_needs_only_pydantic_and_email_validator_in_ranges() -> None:
    project = tomllib.loads((ROOT / "contracts" / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(line) for line in project["dependencies"]]
    assert {requirement.name for requirement in requirements} == {"pydantic", "email-validator"}
    for requirement in requirements:
        operators = {spec.operator for spec in requirement.specifier}
        assert "==" not in operators and {">=", "<"} <= operators, requirement


def test_the_shared_distribution_depends_on_the_contracts_and_does_not_ship_them() -> None:
    shared = tomllib.loads((ROOT / "shared" / "pyproject.toml").read_text())["project"]
    assert any(Requirement(line).name == "passerelle-contracts" for line in shared["dependencies"])
    assert not (ROOT / "shared" / "src" / "passerelle" / "contracts").exists()
