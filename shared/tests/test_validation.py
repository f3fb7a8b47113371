"""The one validation layer of user input: text that can be stored, codes written one way, money
in ASCII digits within the columns, and partial updates where null is not a value."""

from typing import Annotated, Any

import pytest
from passerelle.contracts.types import ONE_LINE, Identifier, Line, Paragraphs, Storable
from passerelle.validation import (
    KnownCountry,
    KnownCurrency,
    KnownLanguage,
    KnownLocale,
    Money,
    omittable,
)
from pydantic import BaseModel, StringConstraints, TypeAdapter, ValidationError


def accepts(kind: Any, value: Any) -> Any:
    return TypeAdapter(kind).validate_python(value)


def refuses(kind: Any, value: Any) -> bool:
    try:
        TypeAdapter(kind).validate_python(value)
    except ValidationError:
        return True
    return False


NEVER_STORABLE = ["a\x00b", "\x00", "a\ud800b", "\udfff"]
LINE_BREAKS = ["a\nb", "a\r\nb", "a\rb", "a\x85b", "a\u2028b", "a\u2029b"]
CONTROL_CHARACTERS = ["a\x07b", "a\x1bb", "\x7f", "a\x9fb", "a\x0bb", "a\x0cb"]


@pytest.mark.parametrize("value", NEVER_STORABLE)
def test_nul_and_lone_surrogates_are_refused_in_every_kind_of_text(value: str) -> None:
    for kind in (Storable, Identifier, Line, Paragraphs):
        assert refuses(kind, value), kind


@pytest.mark.parametrize("value", LINE_BREAKS + CONTROL_CHARACTERS + ["a\tb"])
def test_a_line_holds_no_line_break_and_no_control_character(value: str) -> None:
    assert refuses(Line, value)


@pytest.mark.parametrize("value", CONTROL_CHARACTERS)
def test_paragraphs_refuse_control_characters_other_than_line_breaks_and_tabs(value: str) -> None:
    assert refuses(Paragraphs, value)


def test_paragraphs_keep_their_line_breaks_written_one_way() -> None:
    assert accepts(Paragraphs, "one\r\ntwo\rthree\x85four\u2028five\u2029six\tend") == (
        "one\ntwo\nthree\nfour\nfive\n\nsix\tend"
    )


def test_text_in_any_script_with_direction_marks_is_a_valid_line() -> None:
    for text in ["Tafraout", "تافراوت", "ⵜⴰⴼⵔⴰⵡⵜ", "Ἀθῆναι", "مرحبا\u200f!", "👩🏽‍🌾 coop"]:
        assert accepts(Line, text) == text


def test_a_line_is_trimmed_before_its_length_is_checked() -> None:
    name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5), ONE_LINE]
    assert accepts(name, "  Amina  ") == "Amina"
    assert refuses(name, "   ") and refuses(name, "Fatima") and refuses(name, "A\u2028B")


def test_codes_are_written_the_one_way_the_events_carry_them() -> None:
    assert accepts(KnownCurrency, "eur") == "EUR"
    assert accepts(KnownCountry, "ma") == "MA"
    assert accepts(KnownLanguage, "FR") == "fr"
    assert accepts(KnownLocale, "AR-MA") == "ar-MA"
    for kind, value in [(KnownCurrency, "ZZZ"), (KnownCountry, "XX"), (KnownLanguage, "zz")]:
        assert refuses(kind, value)


def test_letters_that_only_case_map_to_ascii_are_not_taken_for_a_code() -> None:
    # U+0131 (dotless i) upper-cases to I, U+017F (long s) to S, U+212A (Kelvin sign) lower-cases to k.
    assert refuses(KnownCountry, "\u0131t")
    assert refuses(KnownCurrency, "u\u017fd")
    assert refuses(KnownLanguage, "\u212am")
    assert refuses(KnownLocale, "\u0131t")


def test_a_locale_fits_its_column_and_the_event_s_pattern() -> None:
    assert refuses(KnownLocale, "fr-" + "-abcdefgh" * 5)
    assert refuses(KnownLocale, "fr-\x00x")
    assert refuses(KnownLocale, "fr_FR")


@pytest.mark.parametrize(
    "digits",
    [
        "\u0661\u0662\u0663",  # Arabic-Indic
        "\u06f1\u06f2\u06f3",  # Extended Arabic-Indic (Persian)
        "\uff11\uff12\uff13",  # full-width
        "\u0967\u0968\u0969",  # Devanagari
        "12.\u0665",
        "\U0001d7cf\U0001d7d0",  # mathematical bold
    ],
)
def test_amounts_are_written_in_ascii_digits_only(digits: str) -> None:
    assert refuses(Money, digits)


def test_amounts_have_two_decimals_at_most_and_stay_far_below_the_column_s_limit() -> None:
    assert accepts(Money, "250") == "250"
    assert accepts(Money, "1000000000.00") == "1000000000.00"
    for value in ["1000000000.01", "9999999999999.99", "1.234", "-5", "1e3", " 5", "0x10", ""]:
        assert refuses(Money, value), value


class Edit(BaseModel):
    title: Line = omittable(max_length=20)
    languages: list[str] = omittable(max_length=3)
    ends_on: str | None = None


def test_a_field_of_a_partial_update_may_be_left_out_but_is_not_thereby_nullable() -> None:
    assert Edit.model_validate({}).model_dump(exclude_unset=True) == {}
    assert Edit.model_validate({"ends_on": None}).model_dump(exclude_unset=True) == {"ends_on": None}
    for field in ("title", "languages"):
        with pytest.raises(ValidationError) as refused:
            Edit.model_validate({field: None})
        assert refused.value.errors()[0]["loc"] == (field,)


def test_a_partial_update_s_schema_does_not_offer_null_where_it_is_refused() -> None:
    properties = Edit.model_json_schema()["properties"]
    assert properties["title"] == {"title": "Title", "type": "string", "maxLength": 20}
    assert "default" not in properties["languages"]
