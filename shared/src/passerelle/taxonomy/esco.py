"""Import the official ESCO CSV export (https://esco.ec.europa.eu/en/use-esco/download) into a
taxonomy file that every service loads next to the curated skills.

The export is one folder: `skills_<lang>.csv` per language (preferred and alternative labels),
`broaderRelationsSkillPillar_<lang>.csv` (the hierarchy), and optionally `skillGroups_<lang>.csv`
and `skillSkillRelations_<lang>.csv` (related skills). Only released concepts are imported.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .loading import curated_skills, merge, skill_to_json
from .model import Skill, Taxonomy, TaxonomyError, fold

ESCO_PREFIX = "http://data.europa.eu/esco/"
OTHER_SECTOR = "other"
_LANGUAGE_FILE = re.compile(r"^(skills|skillGroups)_([a-z]{2})\.csv$")


@dataclass
class _Concept:
    uri: str
    labels: dict[str, str] = field(default_factory=dict)
    alt_labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    broader: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ImportReport:
    skills: int
    linked_to_curated: int
    broader_links: int
    related_links: int
    languages: tuple[str, ...]
    written_to: Path

    def __str__(self) -> str:
        return (
            f"imported {self.skills} ESCO skills and groups "
            f"({self.linked_to_curated} linked to curated skills), "
            f"{self.broader_links} broader and {self.related_links} related links, "
            f"labels in {', '.join(self.languages)} -> {self.written_to}"
        )


def import_esco(source: Path, destination: Path) -> ImportReport:
    """Read an ESCO export folder and write the taxonomy file; raises ValueError on a folder that is
    not an ESCO export."""
    concepts = _read_concepts(source)
    if not concepts:
        raise ValueError(f"{source} has no skills_<lang>.csv with released ESCO skills")
    broader_links = _read_links(
        source, "broaderRelationsSkillPillar", "conceptUri", "broaderUri", concepts, "broader"
    )
    related_links = _read_links(
        source, "skillSkillRelations", "originalSkillUri", "relatedSkillUri", concepts, "related"
    )
    curated = curated_skills()
    codes = _codes(concepts, curated)
    imported = _skills(concepts, codes, curated)
    try:
        Taxonomy(merge(curated, imported))
    except TaxonomyError as error:
        raise ValueError(f"the imported hierarchy does not fit the curated one: {error}") from error
    destination.parent.mkdir(parents=True, exist_ok=True)
    languages = tuple(sorted({language for concept in concepts.values() for language in concept.labels}))
    document = {
        "source": {"esco_folder": str(source), "imported_at": datetime.now(UTC).isoformat()},
        "skills": [skill_to_json(skill) for skill in imported],
    }
    destination.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    linked = sum(1 for code in codes.values() if not code.startswith("esco:"))
    return ImportReport(len(imported), linked, broader_links, related_links, languages, destination)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _read_concepts(source: Path) -> dict[str, _Concept]:
    concepts: dict[str, _Concept] = {}
    for path in sorted(source.glob("*.csv")):
        matched = _LANGUAGE_FILE.match(path.name)
        if not matched:
            continue
        language = matched.group(2)
        for row in _rows(path):
            uri, label = row.get("conceptUri", "").strip(), row.get("preferredLabel", "").strip()
            if not uri.startswith(ESCO_PREFIX) or not label or row.get("status", "released") != "released":
                continue
            concept = concepts.setdefault(uri, _Concept(uri))
            concept.labels[language] = label
            alternatives = [alt.strip() for alt in row.get("altLabels", "").splitlines() if alt.strip()]
            if alternatives:
                concept.alt_labels[language] = tuple(alternatives)
    return concepts


def _read_links(
    source: Path, stem: str, from_column: str, to_column: str, concepts: dict[str, _Concept], kind: str
) -> int:
    """Links between imported concepts, from the first language's file (links are the same in all)."""
    files = sorted(source.glob(f"{stem}*.csv"))
    if not files:
        return 0
    count = 0
    for row in _rows(files[0]):
        origin, target = concepts.get(row.get(from_column, "")), row.get(to_column, "")
        if origin is None or target not in concepts or target == origin.uri:
            continue
        links = origin.broader if kind == "broader" else origin.related
        if target not in links:
            links.append(target)
            count += 1
    return count


def _codes(concepts: dict[str, _Concept], curated: list[Skill]) -> dict[str, str]:
    """A curated skill stands for the ESCO concept with its URI, or else with its English label;
    every other concept gets a code made of its URI."""
    by_uri = {skill.esco_uri: skill.code for skill in curated if skill.esco_uri}
    by_label = {fold(skill.label("en")): skill.code for skill in curated if not skill.esco_uri}
    codes = {}
    for uri, concept in concepts.items():
        curated_code = by_uri.get(uri) or by_label.get(fold(concept.labels.get("en", "")))
        codes[uri] = curated_code or "esco:" + uri.removeprefix(ESCO_PREFIX)
    return codes


def _skills(concepts: dict[str, _Concept], codes: dict[str, str], curated: list[Skill]) -> list[Skill]:
    curated_sectors = {skill.code: skill.sector for skill in curated}
    curated_codes = set(curated_sectors)
    broader = {
        # The curated hierarchy is authoritative: ESCO parents are added only to ESCO's own concepts.
        codes[uri]: () if codes[uri] in curated_codes else tuple(codes[parent] for parent in concept.broader)
        for uri, concept in concepts.items()
    }
    sectors = _sectors(broader, curated_sectors)
    return [
        Skill(
            code=codes[uri],
            sector=sectors[codes[uri]],
            labels=concept.labels,
            broader=broader[codes[uri]],
            related=tuple(codes[other] for other in concept.related),
            esco_uri=uri,
            alt_labels=concept.alt_labels,
        )
        for uri, concept in concepts.items()
    ]


def _sectors(broader: dict[str, tuple[str, ...]], curated_sectors: dict[str, str]) -> dict[str, str]:
    """A concept's sector is that of its nearest curated ancestor; without one it is `other`."""
    children: dict[str, list[str]] = defaultdict(list)
    for code, parents in broader.items():
        for parent in parents:
            children[parent].append(code)
    sectors = {code: curated_sectors.get(code, OTHER_SECTOR) for code in broader}
    pending = [code for code in broader if code in curated_sectors]
    while pending:
        parent = pending.pop()
        for child in children.get(parent, []):
            if child not in curated_sectors and sectors[child] == OTHER_SECTOR:
                sectors[child] = sectors[parent]
                pending.append(child)
    return sectors
