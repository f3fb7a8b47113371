"""The portal says things with CLDR's rules in the reader's language (Babel), from catalogue files."""

from __future__ import annotations

import pytest
from portal.i18n import Speech, choose, languages


def test_the_languages_are_the_catalogue_files() -> None:
    assert languages() == ("ar", "en", "fr")


def test_arabic_counts_with_its_six_plural_forms() -> None:
    arabic = Speech("ar")
    said = {
        n: arabic.ngettext("%(num)d person", "%(num)d people", n) % {"num": n} for n in (0, 1, 2, 3, 11, 100)
    }
    assert said == {
        0: "لا أحد",
        1: "شخص واحد",
        2: "شخصان",
        3: "3 أشخاص",
        11: "11 شخصًا",
        100: "100 شخص",
    }
    assert Speech("fr").ngettext("%(num)d person", "%(num)d people", 1) % {"num": 1} == "1 personne"


def test_amounts_dates_and_languages_are_said_as_cldr_says_for_the_locale() -> None:
    french, arabic = Speech("fr", "Europe/Brussels"), Speech("ar", "Africa/Casablanca")
    assert french.money("12000.00", "EUR") == "12\u202f000,00\u00a0€"
    assert arabic.money("12000.00", "EUR") != french.money("12000.00", "EUR")
    assert french.language_name("ar") == "arabe" and arabic.language_name("fr") == "الفرنسية"
    assert french.when("2026-12-01T12:00:00+00:00") == "1 déc. 2026, 13:00:00", "in the reader's time zone"
    assert french.word("bond", "heart") == "cœur" and arabic.word("bond", "heart") == "القلب"
    assert arabic.direction == "rtl" and french.direction == "ltr"


@pytest.mark.parametrize(
    ("chosen", "profile", "accept", "expected"),
    [
        ("ar", "fr-BE", "en", "ar"),
        (None, "ar-MA", "fr", "ar"),
        (None, None, "en-GB,en;q=0.9,fr;q=0.8", "en"),
        (None, None, "de;q=1,ar;q=0.5", "ar"),
        (None, None, None, "fr"),
    ],
)
def test_the_page_language_is_the_chosen_one_else_the_profiles_else_the_browsers(
    chosen: str | None, profile: str | None, accept: str | None, expected: str
) -> None:
    assert choose(chosen=chosen, profile_locale=profile, accept_language=accept) == expected
