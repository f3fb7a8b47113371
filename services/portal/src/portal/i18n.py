"""Languages of the portal: one gettext catalogue per language in `locales/<code>.po` (adding a
language is adding a file), Babel for CLDR plurals, numbers, amounts, dates, language names."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, negotiate_locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations

LOCALES = Path(__file__).parent / "locales"
DEFAULT = "fr"


@cache
def languages() -> tuple[str, ...]:
    """The languages the portal speaks: one per catalogue file."""
    return tuple(sorted(path.stem for path in LOCALES.glob("*.po")))


@cache
def translations(language: str) -> Translations:
    with (LOCALES / f"{language}.po").open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def choose(*, chosen: str | None, profile_locale: str | None, accept_language: str | None) -> str:
    """The page language: the one chosen with the switcher, else the member's profile locale, else
    the browser's Accept-Language, else French."""
    for candidate in (chosen, profile_locale):
        if candidate and candidate.split("-")[0] in languages():
            return candidate.split("-")[0]
    wanted = []
    for part in (accept_language or "").split(","):
        tag, _, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            continue
        if tag and tag != "*":
            wanted.append((weight, tag.split("-")[0].lower()))
    ordered = [tag for _, tag in sorted(wanted, key=lambda item: -item[0])]
    return negotiate_locale(ordered, list(languages())) or DEFAULT


def native_name(code: str) -> str:
    """A language as its speakers write it, for the switcher: "français", "العربية", "English"."""
    return Locale.parse(code).get_display_name(code) or code


@dataclass(frozen=True)
class Speech:
    """How a page says things in its reader's language and time zone."""

    language: str
    time_zone: str = "UTC"

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.language)

    @property
    def direction(self) -> str:
        return "rtl" if self.locale.character_order == "right-to-left" else "ltr"

    def gettext(self, message: str) -> str:
        return translations(self.language).gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return translations(self.language).ngettext(singular, plural, count)

    def word(self, kind: str, value: str | None) -> str:
        """A code of the API (a bond, mode, status, sector ...) in words; the code if no word yet."""
        if not value:
            return ""
        key = f"{kind}.{value}"
        said = self.gettext(key)
        return value.replace("_", " ") if said == key else said

    def language_name(self, code: str) -> str:
        return self.locale.languages.get(code.split("-", maxsplit=1)[0], code)

    def country_name(self, code: str) -> str:
        return self.locale.territories.get(code.upper(), code)

    def money(self, amount: str | Decimal | None, currency: str | None) -> str:
        if amount is None or not currency:
            return ""
        return format_currency(Decimal(str(amount)), currency, locale=self.locale)

    def number(self, value: int | float | Decimal) -> str:
        return format_decimal(value, locale=self.locale)

    def when(self, moment: str | datetime | None) -> str:
        if not moment:
            return ""
        value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
        return format_datetime(value, "medium", tzinfo=ZoneInfo(self.time_zone), locale=self.locale)

    def day(self, moment: str | None) -> str:
        return (
            format_date(datetime.fromisoformat(moment).date(), "medium", locale=self.locale) if moment else ""
        )
