"""E-mail out: over SMTP when `PASSERELLE_SMTP_URL` is set, otherwise as `.eml` files in the mail
directory, so that `passerelle up` needs no mail server and a developer can open what was sent."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
from passerelle.contracts.types import flattened

from .config import NotificationsSettings
from .texts import Email

# A whole SMTP conversation must end within this, so that one slow server cannot hold a worker.
SMTP_DEADLINE = 60.0
# Writing an .eml file takes milliseconds; a message claimed by a process that died is tried again
# this long (plus the dispatcher's margin) after its claim, so keep it short.
FILE_DEADLINE = 5.0


class DeliveryError(Exception):
    """A send failed; `permanent` ones are not worth another try."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Mailer:
    def __init__(self, settings: NotificationsSettings, directory: Path) -> None:
        """`directory` is where e-mails are written without SMTP."""
        self.sender = settings.mail_from
        self.directory = directory
        self.smtp = _smtp_options(settings.smtp_url.get_secret_value()) if settings.smtp_url else None
        # .eml files are written by threads of their own: webhooks resolving names in the default
        # executor cannot keep e-mails waiting.
        self._writers = (
            ThreadPoolExecutor(max_workers=2, thread_name_prefix="notifications-eml")
            if self.smtp is None
            else None
        )

    def compose(self, message_id: str, to: str, email: Email) -> EmailMessage:
        message = EmailMessage()
        # The same id on every try: a receiving server or client can tell a retried send from a new one.
        domain = Address(addr_spec=_address_of(self.sender)).domain or "passerelle.invalid"
        headers = {
            "From": self.sender,
            "To": to,
            "Subject": email.subject,
            "Date": format_datetime(datetime.now(UTC)),
            "Message-ID": make_msgid(idstring=message_id, domain=domain),
            "Auto-Submitted": "auto-generated",
        }
        # Every header is made one line: a member's name or a project's title can neither break the
        # message nor add headers.
        for name, value in headers.items():
            message[name] = flattened(value)
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        # After the content, which resets Content-* headers.
        message["Content-Language"] = flattened(email.language)
        return message

    @property
    def deadline(self) -> float:
        """The longest one send may take."""
        return FILE_DEADLINE if self.smtp is None else SMTP_DEADLINE

    def close(self) -> None:
        if self._writers is not None:
            self._writers.shutdown(wait=True)

    def forget(self, message_ids: Iterable[str]) -> None:
        """Delete the .eml files of these messages (an erased member's): their name and address go too."""
        if self.smtp is None:
            for message_id in message_ids:
                (self.directory / f"{message_id}.eml").unlink(missing_ok=True)

    async def send(self, message_id: str, message: EmailMessage) -> str:
        """Send, and say where it went (for the delivery log)."""
        if self.smtp is None:
            return await self._write_file(message_id, message)
        return await self._send_smtp(self.smtp, message)

    async def _send_smtp(self, smtp: SmtpServer, message: EmailMessage) -> str:
        try:
            async with asyncio.timeout(SMTP_DEADLINE):
                await aiosmtplib.send(
                    message,
                    hostname=smtp.hostname,
                    port=smtp.port,
                    username=smtp.username,
                    password=smtp.password,
                    use_tls=smtp.use_tls,
                    start_tls=smtp.start_tls,
                    timeout=30,
                )
        except TimeoutError as error:
            raise DeliveryError(f"SMTP: no answer within {SMTP_DEADLINE:g} s") from error
        except (aiosmtplib.SMTPException, OSError) as error:
            permanent = isinstance(error, aiosmtplib.SMTPResponseException) and 500 <= error.code < 600
            raise DeliveryError(f"SMTP: {error}", permanent=permanent) from error
        return f"smtp {smtp.hostname}"

    async def _write_file(self, message_id: str, message: EmailMessage) -> str:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(FILE_DEADLINE):
                return await loop.run_in_executor(self._writers, self._write, message_id, message)
        except TimeoutError as error:
            raise DeliveryError(f"the .eml file was not written within {FILE_DEADLINE:g} s") from error

    def _write(self, message_id: str, message: EmailMessage) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Named after the message alone: a try repeated after a crash replaces its own file.
        path = self.directory / f"{message_id}.eml"
        partial = path.with_suffix(".eml.partial")
        partial.write_bytes(message.as_bytes())
        os.replace(partial, path)  # readers never see half a message
        return str(path)


def _address_of(sender: str) -> str:
    return sender.rsplit("<", 1)[-1].rstrip(">").strip()


@dataclass(frozen=True)
class SmtpServer:
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool | None


def _smtp_options(url: str) -> SmtpServer:
    """smtp://user:password@host:587 uses STARTTLS when offered (`?starttls=require` insists);
    smtps://host:465 is TLS from the start."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError(
            "PASSERELLE_SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465"
        )
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["auto"])[0]
    return SmtpServer(
        hostname=parts.hostname,
        port=parts.port or (465 if parts.scheme == "smtps" else 587),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=parts.scheme == "smtps",
        start_tls={"auto": None, "require": True, "off": False}[starttls],
    )
