"""The skill taxonomy: codes, labels per language, sectors, broader and related links, and search."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

DEFAULT_LANGUAGE = "en"

# Arabic letters written two ways in everyday text (teh marbuta / heh, alef maksura / yeh) are one
# letter to search, and the tatweel that stretches a word is dropped.
_ARABIC_VARIANTS = str.maketrans({"\u0629": "\u0647", "\u0649": "\u064a", "\u0640": None})


def fold(text: str) -> str:
    """Text as search compares it: case, accents, Arabic short vowels and hamza seats ignored."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_ARABIC_VARIANTS))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


class TaxonomyError(ValueError):
    """The taxonomy's data is inconsistent (a link to an unknown code, a loop of broader links)."""


@dataclass(frozen=True)
class Skill:
    code: str
    sector: str
    labels: Mapping[str, str]
    broader: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    esco_uri: str | None = None
    alt_labels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def label(self, language: str = DEFAULT_LANGUAGE) -> str:
        """The label in `language` (a BCP 47 tag such as ar-MA is read as ar), else in English."""
        primary = language.split("-", maxsplit=1)[0].lower()
        return (
            self.labels.get(primary) or self.labels.get(DEFAULT_LANGUAGE) or next(iter(self.labels.values()))
        )


@dataclass(frozen=True)
class _Searchable:
    skill: Skill
    labels: Mapping[str, str]  # language -> folded preferred label
    everything: str  # every label and alternative label, folded


class Taxonomy:
    """An immutable set of skills with their links; every link points at a skill of the set."""

    def __init__(self, skills: Iterable[Skill]) -> None:
        self._skills = {skill.code: skill for skill in skills}
        self._narrower: dict[str, list[str]] = defaultdict(list)
        for skill in self._skills.values():
            for link in (*skill.broader, *skill.related):
                if link not in self._skills:
                    raise TaxonomyError(f"skill {skill.code} links to unknown skill {link}")
            for parent in skill.broader:
                self._narrower[parent].append(skill.code)
        for code in self._skills:
            self.ancestors(code)  # raises on a loop
        self._searchable = [
            _Searchable(
                skill,
                {language: fold(label) for language, label in skill.labels.items()},
                " | ".join(
                    fold(text)
                    for text in (
                        *skill.labels.values(),
                        *(a for alts in skill.alt_labels.values() for a in alts),
                    )
                ),
            )
            for skill in sorted(self._skills.values(), key=lambda s: s.code)
        ]

    def __contains__(self, code: object) -> bool:
        return code in self._skills

    def __iter__(self) -> Iterator[Skill]:
        return iter(self._skills.values())

    def __len__(self) -> int:
        return len(self._skills)

    def get(self, code: str) -> Skill | None:
        return self._skills.get(code)

    def __getitem__(self, code: str) -> Skill:
        return self._skills[code]

    @property
    def sectors(self) -> frozenset[str]:
        return frozenset(skill.sector for skill in self._skills.values())

    def narrower(self, code: str) -> list[str]:
        return sorted(self._narrower.get(code, []))

    def descendants(self, code: str) -> set[str]:
        """The skill and every skill below it: who offers one of these can do what `code` asks."""
        found, pending = {code}, [code]
        while pending:
            for child in self._narrower.get(pending.pop(), []):
                if child not in found:
                    found.add(child)
                    pending.append(child)
        return found

    def ancestors(self, code: str) -> list[str]:
        """Every broader skill, nearest first."""
        found: list[str] = []
        pending = list(self._skills[code].broader)
        while pending:
            parent = pending.pop(0)
            if parent == code:
                raise TaxonomyError(f"skill {code} is broader than itself")
            if parent not in found:
                found.append(parent)
                pending.extend(self._skills[parent].broader)
        return found

    def search(
        self, query: str = "", language: str = DEFAULT_LANGUAGE, sector: str | None = None
    ) -> list[Skill]:
        """Skills whose code or label (in any language) contains every word of `query`.

        Best first: a label in `language` that starts with the query, then one with a word starting
        with it, then one containing it, then matches only in another language.
        """
        primary = language.split("-", maxsplit=1)[0].lower()
        words = fold(query).split()
        ranked: list[tuple[int, str, Skill]] = []
        for entry in self._searchable:
            skill = entry.skill
            if sector is not None and skill.sector != sector:
                continue
            own = entry.labels.get(primary) or entry.labels.get(DEFAULT_LANGUAGE, "")
            rank = _rank(words, skill.code, own, entry.everything)
            if rank is not None:
                ranked.append((rank, fold(skill.label(primary)), skill))
        ranked.sort(key=lambda item: (item[0], item[1]))
        return [skill for _, _, skill in ranked]


def _rank(words: list[str], code: str, label: str, everything: str) -> int | None:
    if not words:
        return 0
    phrase = " ".join(words)
    if code == phrase:
        return 0
    if label.startswith(phrase):
        return 1
    label_words = label.split()
    if all(any(w.startswith(word) for w in label_words) for word in words):
        return 2
    if all(word in label for word in words):
        return 3
    if all(word in everything or word in code for word in words):
        return 4
    return None
