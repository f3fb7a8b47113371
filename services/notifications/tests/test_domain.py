"""Messages in the member's language, with reasons as sentences."""

from notifications.domain import language_of, render
from passerelle.reasons import explain


def test_the_member_s_locale_picks_the_language_and_unknown_ones_fall_back_to_english() -> None:
    assert language_of("ar-MA") == "ar"
    assert language_of("fr") == "fr"
    assert language_of("nl-BE") == "en"


def test_reason_codes_become_sentences_in_that_language() -> None:
    assert explain(["skill_exact", "bond_family", "language:fr"], "en") == (
        "you have exactly the skill it needs; your family comes from this territory; you speak fr"
    )
    assert explain(["bond_origin", "some_future_code"], "fr") == "vous êtes originaire de ce territoire"


def test_a_match_message_names_the_project_and_the_territory() -> None:
    message = render(
        "match_proposed",
        "fr",
        {"name": "Fatima", "project": "Poste de santé", "territory": "Tafraout", "reasons": "vous parlez fr"},
    )
    assert message.language == "fr"
    assert message.title == "Un projet à Tafraout a besoin de vous : Poste de santé"
    assert "vous parlez fr" in message.body
