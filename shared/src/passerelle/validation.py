"""Checks of user input, one layer for every API: reference codes (ISO countries, languages and
currencies, IANA time zones) written the one way the events carry them, text that can be stored,
money as ASCII decimals that fit their columns, and partial updates where null is not a value.

Each input type builds on the contract type of the event field it ends up in, so that whatever
the API accepts can also be published."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Annotated, Any
from zoneinfo import available_timezones

import pycountry
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from passerelle.contracts.types import CountryCode, CurrencyCode, LanguageCode, Locale

# The amounts columns are NUMERIC(15, 2): 13 digits before the point. One amount stays well below,
# so that totals of many fit too; a total that would not fit is refused by the database as a 422.
MAX_AMOUNT = Decimal("1000000000.00")


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


# Codes are ASCII: only ASCII is case-mapped, since some other letters map to ASCII ones (U+0131 -> I).
def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) and value.isascii() else value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) and value.isascii() else value


def _locale_case(value: Any) -> Any:
    """BCP 47 case conventions: language lower case (`ar-MA`), so that `AR-ma` is the same tag."""
    if not isinstance(value, str) or not value.isascii():
        return value
    language, _, rest = value.partition("-")
    return f"{language.lower()}-{rest}" if rest else language.lower()


def country(code: str) -> str:
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def language(code: str) -> str:
    if pycountry.languages.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 639-1 language code")
    return code


def locale(tag: str) -> str:
    language(tag.split("-", maxsplit=1)[0])
    return tag


def time_zone(name: str) -> str:
    if name not in _time_zones():
        raise ValueError(f"{name!r} is not an IANA time zone such as Europe/Brussels")
    return name


def currency(code: str) -> str:
    if pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


def amount(value: str) -> str:
    if Decimal(value) > MAX_AMOUNT:
        raise ValueError(f"is more than {MAX_AMOUNT:,.2f}")
    return value


def distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


KnownCountry = Annotated[CountryCode, BeforeValidator(_upper), AfterValidator(country)]
KnownLanguage = Annotated[LanguageCode, BeforeValidator(_lower), AfterValidator(language)]
KnownLocale = Annotated[
    Locale, StringConstraints(max_length=35), BeforeValidator(_locale_case), AfterValidator(locale)
]
KnownTimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(time_zone)]
KnownCurrency = Annotated[CurrencyCode, BeforeValidator(_upper), AfterValidator(currency)]
Money = Annotated[
    str,
    # [0-9], not \d: \d also matches Arabic-Indic, full-width and every other script's digits.
    StringConstraints(pattern=r"^[0-9]{1,10}(\.[0-9]{1,2})?$"),
    AfterValidator(amount),
    Field(description=f"A decimal string with at most two decimals, at most {MAX_AMOUNT}; never a float"),
]


def omittable(**constraints: Any) -> Any:
    """A field of a partial update (PATCH): it may be left out, which changes nothing, but it is not
    thereby nullable: an explicit null is refused like any value of the wrong type. Declare the
    field with its type without `| None` where null makes no sense, e.g.
    `title: Title = omittable()`; with `| None` where null means "clear it"."""
    return Field(default=None, json_schema_extra=_without_default, **constraints)


def _without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)
