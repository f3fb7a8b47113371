import asyncio
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from notifications.config import NotificationsSettings
from notifications.mail import Attachment, Mailer
from notifications.texts import Email
from passerelle.contracts.types import flattened

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
    mailer = Mailer(NotificationsSettings(), Path("mail"))
    subject = f"Solar{brk}Bcc: victim@example.org"
    message = mailer.compose("m-1", "amina@example.org", Email(subject, "text", "<p>html</p>", "en"))
    sent = message_from_bytes(message.data, policy=default)
    assert sent["Subject"] == "Solar Bcc: victim@example.org"
    assert sent["Bcc"] is None and sent["To"] == "amina@example.org"


def test_header_values_keep_every_printable_character_and_right_to_left_marks() -> None:
    assert flattened("  مرحبًا\u200f  Fatima  ") == "مرحبًا\u200f Fatima"


def test_a_lone_surrogate_never_reaches_a_header() -> None:
    assert flattened("Fatima\ud800 Benali") == "Fatima Benali"


def test_an_email_reads_back_with_its_headers_and_both_bodies_in_any_script(tmp_path: Path) -> None:
    sender = "Passerelle Tafraout <no-reply@passerelle.example>"
    mailer = Mailer(NotificationsSettings(mail_from=sender), tmp_path)
    subject = "اقتراح: مشروع الطاقة الشمسية في تافراوت " * 3  # long and right to left: folded words
    email = Email(subject, "Bonjour Fatima,\nvoici 🌞", "<p>مرحبًا</p>", "ar")
    path = Path(asyncio.run(mailer.send("m-1", mailer.compose("m-1", "fatima@example.org", email))))
    read = message_from_bytes(path.read_bytes(), policy=default)
    assert read["Subject"] == flattened(subject) and read["To"] == "fatima@example.org"
    assert read["From"] == sender
    assert read["Message-ID"] == "<m-1@passerelle.example>" and read["Content-Language"] == "ar"
    plain, html = (part.get_content() for part in read.iter_parts())
    assert plain.rstrip() == "Bonjour Fatima,\nvoici 🌞" and html.rstrip() == "<p>مرحبًا</p>"


def test_an_attached_calendar_reads_back_beside_both_bodies(tmp_path: Path) -> None:
    mailer = Mailer(NotificationsSettings(), tmp_path)
    ics = "BEGIN:VCALENDAR\r\nSUMMARY:Réunion à Tafraout\r\nEND:VCALENDAR\r\n"
    email = Email("Votre place est confirmée", "Bonjour", "<p>Bonjour</p>", "fr")
    attached = [Attachment("gathering.ics", "text/calendar", ics)]
    sent = mailer.compose("m-2", "leila@example.org", email, attached)
    read = message_from_bytes(sent.data, policy=default)
    assert read.get_content_type() == "multipart/mixed"
    [calendar] = list(read.iter_attachments())
    assert calendar.get_content_type() == "text/calendar" and calendar.get_filename() == "gathering.ics"
    assert calendar.get_content() == ics
    assert read.get_body(("plain",)).get_content().rstrip() == "Bonjour"  # type: ignore[union-attr]
