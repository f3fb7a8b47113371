"""Create a new service in the house shape (ARCHITECTURE.md) from scripts/service_template/.

    make service NAME=gatherings            (runs this, then `uv lock` and `uv sync`)
    uv run python scripts/new_service.py gatherings [--singular gathering] [--root DIR]

Writes services/<name>/ (distribution, entry point, app, config, api, commands, subscribers, handlers,
domain, repository, orm, first migration with the outbox and inbox, fast tests), its Kubernetes base and an
integration test; lists it wherever the workspace lists every service (root pyproject.toml: the
dependencies, uv sources, mypy files and import-linter contracts; deploy/base: kustomization, ingress,
network policies); then prints what is left to do by hand. Refuses a bad or taken name and then
writes nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "service_template"
# A name is a Python package, a distribution suffix, a NATS subject token and a Kubernetes name suffix.
NAME = re.compile(r"[a-z][a-z0-9]{2,30}")
RESERVED = {"passerelle", "shared", "service", "services", "tests", "deploy", "bench", "scripts"}


class Refused(Exception):
    """The name cannot be used; nothing was written."""


def singular_of(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    return name


def existing_services(root: Path) -> list[str]:
    return sorted(path.parent.name for path in (root / "services").glob("*/pyproject.toml"))


def check(name: str, singular: str, root: Path) -> None:
    for word in (name, singular):
        if not NAME.fullmatch(word):
            raise Refused(f"{word!r}: a name is 3 to 31 lowercase letters or digits, starting with a letter")
    if name in RESERVED or name.startswith("passerelle"):
        raise Refused(f"{name!r} is reserved")
    if (root / "services" / name).exists():
        raise Refused(f"services/{name} already exists")
    if name in sys.stdlib_module_names or importlib.util.find_spec(name) is not None:
        raise Refused(f"{name!r} is already an importable Python module")


def tokens(name: str, singular: str) -> dict[str, str]:
    return {
        "{{service}}": name,
        "{{Service}}": name.capitalize(),
        "{{SERVICE}}": name.upper(),
        "{{item}}": singular,
        "{{Item}}": singular.capitalize(),
        "{{created}}": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
    }


def render(text: str, values: dict[str, str]) -> str:
    for token, value in values.items():
        text = text.replace(token, value)
    return text


def planned_files(root: Path, values: dict[str, str]) -> dict[Path, str]:
    files = {}
    for source in sorted(TEMPLATE.rglob("*.tmpl")):
        relative = render(str(source.relative_to(TEMPLATE)), values).removesuffix(".tmpl")
        files[root / relative] = render(source.read_text(), values)
    taken = [str(path.relative_to(root)) for path in files if path.exists()]
    if taken:
        raise Refused(f"already there: {', '.join(taken)}")
    return files


def _service_of(item: str, services: list[str]) -> tuple[str, str] | None:
    """(the item with the service's name as `{}`, the service) when the item names one service."""
    for service in services:
        pattern = rf"(?<![a-z0-9_]){service}(?![a-z0-9_])"
        if re.search(pattern, item):
            return re.sub(pattern, "\0", item), service
    return None


def extend_lists(text: str, services: list[str], name: str) -> str:
    """In every [...] list that names each existing service the same way, name the new one too:
    `["members", ..., "notifications"]` gains `"gatherings"`, `"services/members/src"` gains
    `"services/gatherings/src"`, `"passerelle-members",` on its own line gains its own line."""

    def extend(match: re.Match[str]) -> str:
        body = match.group(1)
        raw_items = re.findall(r"\s*(?:\"[^\"]*\"|'[^']*'|[^,\s][^,]*)", body)
        items = [item.strip().strip("\"'") for item in raw_items]
        shapes: dict[str, set[str]] = {}
        for item in items:
            found = _service_of(item, services)
            if found:
                shapes.setdefault(found[0], set()).add(found[1])
        added = [
            shape.replace("\0", name)
            for shape, named in shapes.items()
            if named == set(services) and shape.replace("\0", name) not in items
        ]
        if not added:
            return match.group(0)
        last = raw_items[-1]
        quote = '"' if '"' in last else "'" if "'" in last else ""
        if "\n" in body:
            line = last.lstrip("\n")
            indent = line[: len(line) - len(line.lstrip())]
            ending = body[len(body.rstrip()) :]
            lines = "".join(f"\n{indent}{quote}{item}{quote}," for item in added)
            return f"[{body.rstrip().rstrip(',')},{lines}{ending}]"
        return f"[{body.rstrip()}{''.join(f', {quote}{item}{quote}' for item in added)}]"

    # A list, whose quoted items may hold brackets (`"passerelle-shared[embedded]"`).
    return re.sub(r"\[((?:\"[^\"]*\"|'[^']*'|[^\[\]\"'])*)\]", extend, text)


def add_after_last(text: str, pattern: str, services: list[str], line: str) -> str:
    """Insert `line` after the last line matching `pattern` (with `{}` standing for a service)."""
    lines = text.splitlines(keepends=True)
    matching = [
        index
        for index, existing in enumerate(lines)
        if any(re.fullmatch(pattern.format(re.escape(s)), existing.rstrip("\n")) for s in services)
    ]
    if not matching:
        raise Refused(f"no line like {pattern!r} to follow with {line!r}")
    lines.insert(matching[-1] + 1, line + "\n")
    return "".join(lines)


def listings(root: Path, services: list[str], name: str) -> dict[Path, str]:
    """The new contents of the files that list every service."""
    pyproject = root / "pyproject.toml"
    toml = extend_lists(pyproject.read_text(), services, name)
    toml = add_after_last(
        toml,
        r"passerelle-{} = \{{ workspace = true \}}",
        services,
        f"passerelle-{name} = {{ workspace = true }}",
    )
    tomllib.loads(toml)
    base = root / "deploy" / "base"
    kustomization = add_after_last(
        (base / "kustomization.yaml").read_text(), r"  - {}", services, f"  - {name}"
    )
    route = (
        f"          - {{path: /{name}, pathType: Prefix, "
        f"backend: {{service: {{name: passerelle-{name}, port: {{name: http}}}}}}}}"
    )
    ingress = add_after_last(
        (base / "ingress.yaml").read_text(), r"          - \{{path: /.*passerelle-{}.*", services, route
    )
    policies = extend_lists((base / "networkpolicies.yaml").read_text(), services, name)
    return {
        pyproject: toml,
        base / "kustomization.yaml": kustomization,
        base / "ingress.yaml": ingress,
        base / "networkpolicies.yaml": policies,
    }


def tidy(root: Path, name: str) -> None:
    """Imports sorted as the workspace sorts them (where a service's name falls depends on its
    spelling) and the house formatting, with the root's ruff configuration."""
    paths = [f"services/{name}", f"tests/integration/test_{name}.py"]
    ruff = [sys.executable, "-m", "ruff"]
    for command in (["format"], ["check", "--fix"], ["format"]):
        subprocess.run([*ruff, *command, "--quiet", *paths], cwd=root, check=True)


NEXT_STEPS = """\
Created the {name} service in services/{name}/ and listed it in pyproject.toml and deploy/base/.
Left to do by hand (each file belongs to the shared platform, so read it before changing it):
  1. `uv lock` and `uv sync` (make service does both), then `make test`.
  2. It consumes MemberErased, declared on its ServiceDefinition (`consumes=`): regenerate the NATS
     users with `passerelle nats auth-config > deploy/nats/authorization.conf` and
     `passerelle nats auth-config --format helm > deploy/nats/values-authorization.yaml`.
  3. Add "{name}" to SERVICES in tests/deploy/test_kubernetes.py (`passerelle up` runs every
     installed service, the four first in SERVICE_ORDER, then the others by name).
  4. Before it publishes: its events in passerelle/contracts/{name}.py (owner "{name}", subjects
     "{name}.<snake_event_name>.v1"), listed in contracts/registry.py EVENTS with
     Stream("{upper}", ("{name}.>",), "{name}") in STREAMS; `make schemas`; then `uow.record(...)`
     in its handlers before `commit()`.
  5. deploy/overlays: add it to the HorizontalPodAutoscaler and PodDisruptionBudget patches whose
     targets name the services, and create its Secret passerelle-{name} (database URL, NATS user).
  6. docs/{name}.md: its API, events and settings (PASSERELLE_{upper}_*), linked from README.md.
"""


def create(name: str, singular: str, root: Path) -> None:
    check(name, singular, root)
    services = existing_services(root)
    files = planned_files(root, tokens(name, singular))
    edits = listings(root, services, name)
    for path, text in {**files, **edits}.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    tidy(root, name)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("name", help="plural, lowercase: gatherings, ideas, opportunities")
    parser.add_argument("--singular", help="one of them, when not the name without its s: gathering")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository to add it to")
    arguments = parser.parse_args()
    try:
        create(arguments.name, arguments.singular or singular_of(arguments.name), arguments.root)
    except Refused as refusal:
        sys.exit(f"new_service: {refusal}")
    print(NEXT_STEPS.format(name=arguments.name, upper=arguments.name.upper()))


if __name__ == "__main__":
    main()
