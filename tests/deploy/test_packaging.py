"""Every distribution asks for version ranges, so that it installs beside other software; the exact
versions we test with live in uv.lock only."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTIONS = sorted(
    [
        ROOT / "contracts" / "pyproject.toml",
        ROOT / "shared" / "pyproject.toml",
        *(ROOT / "services").glob("*/pyproject.toml"),
        ROOT / "scripts" / "service_template" / "services" / "{{service}}" / "pyproject.toml.tmpl",
    ]
)


def requirements(text: str) -> list[str]:
    document = tomllib.loads(text.replace("{{service}}", "service"))
    project = document["project"]
    extras = project.get("optional-dependencies", {}).values()
    return [
        *project["dependencies"],
        *(line for extra in extras for line in extra),
        *document["build-system"]["requires"],
    ]


def explained(text: str, requirement: str) -> bool:
    """Whether the line that asks for `requirement` says, in a comment, why it is exact."""
    return any(
        f'"{requirement}"' in line and "#" in line.split(f'"{requirement}"', 1)[1]
        for line in text.splitlines()
    )


@pytest.mark.parametrize("pyproject", DISTRIBUTIONS, ids=lambda path: str(path.parent.relative_to(ROOT)))
def test_a_distribution_asks_for_version_ranges_and_pins_nothing_without_saying_why(pyproject: Path) -> None:
    text = pyproject.read_text()
    found = requirements(text)
    assert found
    for line in found:
        requirement = Requirement(line)
        operators = {spec.operator for spec in requirement.specifier}
        if operators & {"==", "==="}:
            assert explained(text, line), f"{pyproject.relative_to(ROOT)}: {line} is pinned without a reason"
        else:
            assert ">=" in operators, f"{pyproject.relative_to(ROOT)}: {line} gives no lowest version"
