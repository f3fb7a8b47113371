"""Where the taxonomy comes from: the curated skills shipped with `passerelle`, plus an optional file
imported from ESCO by `passerelle taxonomy import-esco`."""

from __future__ import annotations

import csv
import json
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from .model import Skill, Taxonomy

LANGUAGES = ("en", "fr", "ar")


def curated_skills() -> list[Skill]:
    """The skills territory projects ask for most, labelled in English, French and Arabic."""
    text = files("passerelle.taxonomy").joinpath("skills.tsv").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return [
        Skill(
            code=row["code"],
            sector=row["code"].split(".", maxsplit=1)[0],
            labels={language: row[language] for language in LANGUAGES},
            broader=(row["broader"],) if row["broader"] else (),
            related=tuple(row["related"].split()),
            esco_uri=row["esco_uri"] or None,
        )
        for row in csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    ]


def skill_to_json(skill: Skill) -> dict[str, Any]:
    return {
        "code": skill.code,
        "sector": skill.sector,
        "labels": dict(skill.labels),
        "alt_labels": {language: list(labels) for language, labels in skill.alt_labels.items()},
        "broader": list(skill.broader),
        "related": list(skill.related),
        "esco_uri": skill.esco_uri,
    }


def skill_from_json(data: dict[str, Any]) -> Skill:
    return Skill(
        code=data["code"],
        sector=data["sector"],
        labels=data["labels"],
        broader=tuple(data.get("broader", [])),
        related=tuple(data.get("related", [])),
        esco_uri=data.get("esco_uri"),
        alt_labels={language: tuple(labels) for language, labels in data.get("alt_labels", {}).items()},
    )


def merge(curated: list[Skill], imported: list[Skill]) -> list[Skill]:
    """Imported skills join the curated ones; one that shares a code keeps the curated labels and
    gains the languages, alternative labels and links it did not have."""
    merged = {skill.code: skill for skill in curated}
    for skill in imported:
        known = merged.get(skill.code)
        if known is None:
            merged[skill.code] = skill
            continue
        merged[skill.code] = Skill(
            code=known.code,
            sector=known.sector,
            labels={**skill.labels, **known.labels},
            broader=tuple(dict.fromkeys((*known.broader, *skill.broader))),
            related=tuple(dict.fromkeys((*known.related, *skill.related))),
            esco_uri=known.esco_uri or skill.esco_uri,
            alt_labels={**known.alt_labels, **skill.alt_labels},
        )
    return list(merged.values())


@cache
def load_taxonomy(imported_file: Path | None = None) -> Taxonomy:
    """The curated taxonomy, extended by an imported file when one is given."""
    curated = curated_skills()
    if imported_file is None:
        return Taxonomy(curated)
    document = json.loads(imported_file.read_text(encoding="utf-8"))
    return Taxonomy(merge(curated, [skill_from_json(item) for item in document["skills"]]))
