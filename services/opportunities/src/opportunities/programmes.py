"""The catalogue of support programmes an opportunity may name: a few real ones shipped with the
service (programmes.json), and those an operator adds or corrects in a file of the same shape
(PASSERELLE_OPPORTUNITIES_PROGRAMMES_FILE), as the taxonomy ships skills and imports ESCO's."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from passerelle.contracts.opportunities import Instrument, OpportunityKind
from passerelle.contracts.types import CountryCode
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class SupportProgramme(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=200)
    country: CountryCode = Field(description="Where the investment is made")
    residence_countries: list[CountryCode] = Field(
        default_factory=list, description="Where the diaspora it serves lives; empty: anywhere"
    )
    operator: str = Field(min_length=1, max_length=200, description="Who runs it")
    kinds: list[OpportunityKind] = Field(default_factory=list, description="Empty: every kind")
    instruments: list[Instrument] = Field(default_factory=list)
    summary: str = Field(min_length=1, max_length=2000)
    url: str | None = Field(default=None, max_length=500)


_ENTRIES = TypeAdapter(list[SupportProgramme])


@dataclass(frozen=True)
class Catalogue:
    programmes: dict[str, SupportProgramme]

    def __contains__(self, code: object) -> bool:
        return code in self.programmes

    def find(self, country: str | None = None, kind: str | None = None) -> list[SupportProgramme]:
        return [
            programme
            for programme in sorted(self.programmes.values(), key=lambda p: p.code)
            if (country is None or programme.country == country)
            and (kind is None or not programme.kinds or kind in programme.kinds)
        ]


def load_catalogue(imported: Path | None = None) -> Catalogue:
    """The shipped programmes, then the operator's file: an entry with a known code replaces it."""
    shipped = files("opportunities").joinpath("programmes.json").read_text(encoding="utf-8")
    entries = _ENTRIES.validate_json(shipped)
    if imported is not None:
        entries += _ENTRIES.validate_json(imported.read_bytes())
    return Catalogue({entry.code: entry for entry in entries})
