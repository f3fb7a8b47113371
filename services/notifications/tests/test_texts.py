import json

import pytest
from notifications.texts import KINDS, TEMPLATES, Text, compose_email, language_of, render, withdrawn_because


def test_locale_picks_the_language_and_falls_back_to_english() -> None:
    assert language_of("ar-MA") == "ar"
    assert language_of("fr") == "fr"
    assert language_of("sw-KE") == "en"


@pytest.mark.parametrize("language", ["en", "fr", "ar"])
def test_every_kind_is_written_in_every_language_with_the_same_placeholders(language: str) -> None:
    english = json.loads((TEMPLATES / "messages" / "en.json").read_text(encoding="utf-8"))
    texts = json.loads((TEMPLATES / "messages" / f"{language}.json").read_text(encoding="utf-8"))
    assert texts.keys() == english.keys()
    for kind in KINDS:
        for part in ("title", "body"):
            assert _placeholders(texts[kind][part]) == _placeholders(english[kind][part]), (kind, part)
    assert texts["withdrawn_because"].keys() == english["withdrawn_because"].keys()


def test_messages_are_filled_in_the_members_language() -> None:
    text = render(
        "funding_goal_reached",
        "fr",
        {"name": "Fatima", "project": "Puits", "total": "12000.00", "currency": "EUR"},
    )
    assert text.title == "Puits est entièrement financé"
    assert "12000.00 EUR" in text.body
    assert withdrawn_because("need_filled", "ar") == "وجد المشروع كل الأشخاص الذين يحتاج إليهم"
    assert withdrawn_because("something new", "en") == "the project's needs changed"


def test_arabic_email_reads_right_to_left_and_escapes_what_members_wrote() -> None:
    item = Text("welcome", "ar", "مرحبًا", "<script>alert(1)</script>")
    email = compose_email("ar", "Youssef", [item], digest=False)
    assert '<html lang="ar" dir="rtl">' in email.html
    assert "<script>" not in email.html and "&lt;script&gt;" in email.html
    assert "<script>alert(1)</script>" in email.text


def test_a_digest_gathers_every_item_under_one_subject() -> None:
    items = [Text("pledge_made", "en", f"Pledge {n}", f"Body {n}") for n in range(3)]
    email = compose_email("en", "Awa", items, digest=True)
    assert email.subject == "Your Passerelle news: 3 messages"
    assert all(f"Pledge {n}" in email.html and f"Body {n}" in email.text for n in range(3))
    assert '<html lang="en" dir="ltr">' in email.html


def _placeholders(template: str) -> set[str]:
    import string

    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def test_reason_codes_become_sentences_in_that_language() -> None:
    from passerelle.reasons import explain

    assert explain(["skill_exact", "bond_family", "language:fr"], "en") == (
        "you have exactly the skill it needs; your family comes from this territory; you speak fr"
    )
    assert explain(["bond_origin", "some_future_code"], "fr") == "vous êtes originaire de ce territoire"
