"""Reference checks for user input: ISO countries and languages, IANA time zones, ISO currencies."""

from __future__ import annotations

from functools import cache
from typing import Annotated
from zoneinfo import available_timezones

import pycountry
from pydantic import AfterValidator


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


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


def distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


KnownCountry = Annotated[str, AfterValidator(country)]
KnownLanguage = Annotated[str, AfterValidator(language)]
KnownLocale = Annotated[str, AfterValidator(locale)]
KnownTimeZone = Annotated[str, AfterValidator(time_zone)]
KnownCurrency = Annotated[str, AfterValidator(currency)]
