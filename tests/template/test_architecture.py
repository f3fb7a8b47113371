"""ARCHITECTURE.md tells the layers of the shared package and the contracts that enforce them as
pyproject.toml declares them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = (ROOT / "ARCHITECTURE.md").read_text()
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def test_the_layers_table_lists_the_layers_contract_from_top_to_bottom() -> None:
    [layers] = [contract["layers"] for contract in CONTRACTS if contract["type"] == "layers"]
    declared = [sorted(module.strip() for module in layer.split(":")) for layer in layers]
    table = re.findall(r"^\| (`passerelle\..*?) \|", ARCHITECTURE, flags=re.MULTILINE)
    written = [
        sorted(f"passerelle{name}" if name.startswith(".") else name for name in re.findall("`([^`]+)`", row))
        for row in table
    ]
    assert written == declared


def test_every_contract_it_quotes_is_one_import_linter_checks() -> None:
    quoted = {" ".join(name.split()) for name in re.findall(r'contract "([^"]+)"', ARCHITECTURE)}
    assert quoted and quoted <= {contract["name"] for contract in CONTRACTS}
