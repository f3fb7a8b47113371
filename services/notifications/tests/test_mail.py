import threading
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from notifications import mail
from notifications.config import NotificationsSettings
from notifications.mail import DeliveryError, Mailer
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
    sent = message_from_bytes(message.as_bytes(), policy=default)
    assert sent["Subject"] == "Solar Bcc: victim@example.org"
    assert sent["Bcc"] is None and sent["To"] == "amina@example.org"
    mailer.close()


def test_header_values_keep_every_printable_character_and_right_to_left_marks() -> None:
    assert flattened("  مرحبًا\u200f  Fatima  ") == "مرحبًا\u200f Fatima"


def test_a_lone_surrogate_never_reaches_a_header() -> None:
    assert flattened("Fatima\ud800 Benali") == "Fatima Benali"


async def test_an_eml_file_not_written_within_its_deadline_is_a_failed_try(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailer = Mailer(NotificationsSettings(), tmp_path)
    disk_answers = threading.Event()

    def stuck_disk(message_id: str, message: EmailMessage) -> str:
        disk_answers.wait(timeout=10)
        return "written at last"

    monkeypatch.setattr(mail, "FILE_DEADLINE", 0.05)
    monkeypatch.setattr(mailer, "_write", stuck_disk)
    message = mailer.compose("m-1", "amina@example.org", Email("Solar", "text", "<p>html</p>", "en"))
    try:
        with pytest.raises(DeliveryError, match="not written within"):
            await mailer.send("m-1", message)
    finally:
        disk_answers.set()
        mailer.close()
