"""Value types shared by several event contracts, and the checks of text that every input passes."""

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

# The longest id anything keeps: member, owner and aggregate id columns, the envelope's subject, a
# correlation id.
ID_MAX_LENGTH = 100

# Control characters (Unicode category Cc), line and paragraph separators, lone surrogates.
_NOT_STORABLE = re.compile("[\x00\ud800-\udfff]")
_LINE_BREAKERS = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
_NOT_ONE_LINE = re.compile(f"[{_LINE_BREAKERS}]")
# What a one-line field's JSON Schema says of it (the check itself is `one_line`).
ONE_LINE_PATTERN = f"^[^{_LINE_BREAKERS}]*$"
_NOT_IN_PARAGRAPHS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile("\r\n|[\r\x85\u2028]")


def _refuse(found: re.Match[str] | None, what: str) -> None:
    if found is not None:
        raise ValueError(f"{what} (found U+{ord(found.group()):04X})")


def storable(value: str) -> str:
    """PostgreSQL refuses NUL, and no encoding holds a lone surrogate: such text can never be kept
    nor sent in an event, whatever field it is in."""
    _refuse(_NOT_STORABLE.search(value), "must not contain NUL nor a lone surrogate")
    return value


def one_line(value: str) -> str:
    """Names, titles, codes: one line, no control character (they end up in mail headers, logs, CSV)."""
    storable(value)
    _refuse(_NOT_ONE_LINE.search(value), "must be one line without control characters")
    return value


def flattened(value: str) -> str:
    """Text from elsewhere made one line instead of refused (e.g. for a mail header): whatever
    `one_line` refuses, NUL and lone surrogates become a space, and runs of spaces one."""
    return " ".join(_NOT_ONE_LINE.sub(" ", _NOT_STORABLE.sub(" ", value)).split())


def paragraphs(value: str) -> str:
    """Multi-line text: every kind of line break is written \\n (a paragraph separator, a blank
    line); tabs stay; other control characters are refused."""
    storable(value)
    value = _LINE_BREAK.sub("\n", value).replace("\u2029", "\n\n")
    _refuse(_NOT_IN_PARAGRAPHS.search(value), "must not contain control characters")
    return value


# Checks to place after a StringConstraints (so that stripping and lengths come first), e.g.
# Annotated[str, StringConstraints(max_length=200), ONE_LINE]; or the plain types below.
STORABLE = AfterValidator(storable)
ONE_LINE = AfterValidator(one_line)
PARAGRAPHS = AfterValidator(paragraphs)
Storable = Annotated[str, STORABLE]
Line = Annotated[str, ONE_LINE]
Paragraphs = Annotated[str, PARAGRAPHS]

# An id: what identities, aggregates and correlation ids are; one line, so that it is safe in logs
# and headers.
Identifier = Annotated[
    str,
    StringConstraints(min_length=1, max_length=ID_MAX_LENGTH),
    ONE_LINE,
    Field(description="An opaque id."),
]
CountryCode = Annotated[
    str, StringConstraints(pattern=r"^[A-Z]{2}$"), Field(description="ISO 3166-1 alpha-2")
]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$"), Field(description="ISO 639-1")]
Locale = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"),
    Field(description="BCP 47 language tag, e.g. fr, ar-MA"),
]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(description="ISO 4217")]
DecimalString = Annotated[
    str,
    StringConstraints(pattern=r"^-?[0-9]{1,15}(\.[0-9]{1,4})?$"),
    Field(description="A decimal amount written as a string, never a float, e.g. '12000.00'"),
]
SkillCode = Annotated[
    str, StringConstraints(min_length=1, max_length=100), STORABLE, Field(description="Taxonomy code")
]
Level = Annotated[int, Field(ge=1, le=5, description="1 (basic) to 5 (expert)")]

Bond = Literal["origin", "family", "heart"]
MemberKind = Literal["person", "association", "local_actor"]
Generation = Literal["first", "second", "third", "none"]
Mode = Literal["remote", "short_mission", "long_mission", "mentoring", "call"]
TerritoryLevel = Literal["commune", "province", "region", "country"]
ProjectOutcome = Literal["completed", "cancelled"]
Channel = Literal["inbox", "email", "webhook"]


class ContractModel(BaseModel):
    """A nested value of an event: frozen and tolerant of unknown fields."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Attachment(ContractModel):
    territory_id: Identifier
    bond: Bond = Field(
        description="origin: born there; family: parents' or grandparents'; heart: no family tie"
    )


class Need(ContractModel):
    need_id: Identifier
    skill: SkillCode
    min_level: Level
    mode: Mode
    count: int = Field(ge=1, le=1000, description="How many people are wanted")
    starts_on: date | None = None
    ends_on: date | None = None


class FundingGoal(ContractModel):
    goal_amount: DecimalString
    currency: CurrencyCode
