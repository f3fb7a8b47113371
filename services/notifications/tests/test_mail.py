from email import message_from_bytes
from email.policy import default

import pytest
from notifications.mail import Mailer, header_value
from notifications.texts import Email
from passerelle.settings import PlatformSettings

# Every character str.splitlines() breaks on, and other controls: none may reach a header.
BREAKS = [
    "\n",
    "\r",
    "\r\n",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x1d",
    "\x1e",
    "\x85",
    "\u2028",
    "\u2029",
    "\x00",
    "\t",
]


@pytest.mark.parametrize("brk", BREAKS)
def test_a_title_with_any_line_break_makes_a_one_line_subject_and_no_extra_header(brk: str) -> None:
    mailer = Mailer(PlatformSettings(jwt_secret="unit-test-secret-of-32-bytes-or-more"))
    subject = f"Solar{brk}Bcc: victim@example.org"
    message = mailer.compose("m-1", "amina@example.org", Email(subject, "text", "<p>html</p>", "en"))
    sent = message_from_bytes(message.as_bytes(), policy=default)
    assert sent["Subject"] == "Solar Bcc: victim@example.org"
    assert sent["Bcc"] is None and sent["To"] == "amina@example.org"
    mailer.close()


def test_header_values_keep_every_printable_character_and_right_to_left_marks() -> None:
    assert header_value("  مرحبًا\u200f  Fatima  ") == "مرحبًا\u200f Fatima"
