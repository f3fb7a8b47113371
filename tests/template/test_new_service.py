"""`make service NAME=...` (scripts/new_service.py) gives a new service in the house shape, listed
wherever the workspace lists every service; tried on a copy of the repository."""

from __future__ import annotations

import asyncio
import importlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path

import pytest
import yaml
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from passerelle.messaging.tables import messaging_metadata
from passerelle.persistence.database import ensure_database
from passerelle.persistence.migrations import upgrade
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from ..harness import Databases

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "new_service.py"
TOOLS = Path(sys.executable).parent
NAME = "archives"  # a name no service has taken
HOUSE_SHAPE = [
    "pyproject.toml",
    *(
        f"src/{NAME}/{module}.py"
        for module in (
            "app",
            "config",
            "api",
            "commands",
            "subscribers",
            "handlers",
            "domain",
            "repository",
            "orm",
        )
    ),
    f"src/{NAME}/migrations/env.py",
    f"src/{NAME}/migrations/script.py.mako",
    f"src/{NAME}/migrations/versions/0001_initial_schema.py",
    "tests/test_domain.py",
    "tests/test_handlers.py",
]


def new_service(root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *arguments, "--root", str(root)],
        check=False,
        capture_output=True,
        text=True,
    )


def run(root: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """A tool of the workspace's environment, in the copy, that sees the generated package."""
    environment = {**os.environ, "PYTHONPATH": str(root / "services" / NAME / "src")}
    return subprocess.run(command, check=False, cwd=root, env=environment, capture_output=True, text=True)


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repository") / "passerelle"
    shutil.copytree(
        ROOT,
        root,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", ".tools", "*_cache", "__pycache__", "results", "*.egg-info"
        ),
    )
    created = new_service(root, NAME)
    assert created.returncode == 0, created.stderr
    assert "auth-config" in created.stdout  # what is left to do by hand is printed
    return root


def test_a_new_service_has_every_file_of_the_house_shape_and_its_kubernetes_base(copy: Path) -> None:
    service = copy / "services" / NAME
    assert [path for path in HOUSE_SHAPE if not (service / path).is_file()] == []
    assert (copy / "deploy" / "base" / NAME / "kustomization.yaml").is_file()
    assert (copy / "tests" / "integration" / f"test_{NAME}.py").is_file()
    distribution = tomllib.loads((service / "pyproject.toml").read_text())["project"]
    assert distribution["name"] == f"passerelle-{NAME}"
    assert distribution["entry-points"]["passerelle.services"] == {NAME: f"{NAME}.app:service"}


def test_a_new_service_is_listed_wherever_the_workspace_lists_every_service(copy: Path) -> None:
    workspace = tomllib.loads((copy / "pyproject.toml").read_text())
    assert f"passerelle-{NAME}" in workspace["project"]["dependencies"]
    assert workspace["tool"]["uv"]["sources"][f"passerelle-{NAME}"] == {"workspace": True}
    assert f"services/{NAME}/src" in workspace["tool"]["mypy"]["files"]
    linter = workspace["tool"]["importlinter"]
    assert NAME in linter["root_packages"]
    [independence] = [contract for contract in linter["contracts"] if contract["type"] == "independence"]
    assert NAME in independence["modules"]


def test_the_first_migration_uses_the_shared_outbox_and_inbox_helper(copy: Path) -> None:
    migration = copy / "services" / NAME / "src" / NAME / "migrations" / "versions" / "0001_initial_schema.py"
    assert "create_messaging_tables(op)" in migration.read_text()
    assert "passerelle_outbox" not in migration.read_text()


def test_the_new_services_fast_tests_pass_and_its_modules_import(copy: Path) -> None:
    tests = run(
        copy, sys.executable, "-m", "pytest", f"services/{NAME}/tests", "-q", "-p", "no:cacheprovider"
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert re.search(r"\d+ passed", tests.stdout)
    modules = ", ".join(f"{NAME}.{module}" for module in ("app", "api", "subscribers", "handlers"))
    imported = run(copy, sys.executable, "-c", f"import {modules}")
    assert imported.returncode == 0, imported.stderr


def test_the_new_service_passes_ruff_mypy_and_the_import_contracts(copy: Path) -> None:
    paths = [f"services/{NAME}", f"tests/integration/test_{NAME}.py"]
    for command in (["check"], ["format", "--check"]):
        checked = run(copy, sys.executable, "-m", "ruff", *command, *paths)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    typed = run(copy, sys.executable, "-m", "mypy", "shared/src", f"services/{NAME}/src")
    assert typed.returncode == 0, typed.stdout
    contracts = run(copy, str(TOOLS / "lint-imports"))
    assert contracts.returncode == 0, contracts.stdout
    assert "0 broken" in contracts.stdout


def test_the_kubernetes_base_renders_the_new_services_deployment_and_route(copy: Path) -> None:
    kubectl = shutil.which("kubectl", path=str(TOOLS)) or "kubectl"
    rendered = subprocess.run(
        [kubectl, "kustomize", str(copy / "deploy" / "base")], check=True, capture_output=True, text=True
    ).stdout
    documents = [document for document in yaml.safe_load_all(rendered) if document]
    [deployment] = [
        doc
        for doc in documents
        if doc["kind"] == "Deployment" and doc["metadata"]["name"] == f"passerelle-{NAME}"
    ]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["args"] == ["serve", NAME]
    [ingress] = [doc for doc in documents if doc["kind"] == "Ingress"]
    routes = {
        path["path"]: path["backend"]["service"]["name"]
        for path in ingress["spec"]["rules"][0]["http"]["paths"]
    }
    assert routes[f"/{NAME}"] == f"passerelle-{NAME}"


@pytest.mark.parametrize(
    ("arguments", "refusal"),
    [
        ((NAME,), f"services/{NAME} already exists"),
        (("members",), "services/members already exists"),
        (("Bad-Name",), "lowercase letters or digits"),
        (("ab",), "3 to 31"),
        (("json",), "importable"),
        (("passerellex",), "reserved"),
        (("ideas", "--singular", "an idea"), "lowercase letters or digits"),
    ],
)
def test_a_taken_or_bad_name_is_refused_and_nothing_is_written(
    copy: Path, arguments: tuple[str, ...], refusal: str
) -> None:
    before = {path: path.read_bytes() for path in copy.rglob("*") if path.is_file()}
    refused = new_service(copy, *arguments)
    assert refused.returncode != 0 and refusal in refused.stderr
    assert {path: path.read_bytes() for path in copy.rglob("*") if path.is_file()} == before


async def test_the_new_services_first_migration_creates_exactly_its_tables_and_the_messaging_ones(
    copy: Path, databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(copy / "services" / NAME / "src"))
    Base = importlib.import_module(f"{NAME}.orm").Base

    url = databases.url(f"new_service_{uuid.uuid4().hex[:8]}")
    await ensure_database(url)
    await asyncio.to_thread(upgrade, copy / "services" / NAME / "src" / NAME / "migrations", url)

    def differences(connection: Connection) -> list[object]:
        return list(
            compare_metadata(MigrationContext.configure(connection), [Base.metadata, messaging_metadata])
        )

    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()
