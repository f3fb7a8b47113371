"""E-mail out: over SMTP when `PASSERELLE_SMTP_URL` is set, otherwise as `.eml` files in the mail
directory, so that `passerelle up` needs no mail server and a developer can open what was sent."""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
from passerelle.contracts.types import flattened

from .config import NotificationsSettings
from .texts import Email

# A whole SMTP conversation must end within this, so that one slow server cannot hold a worker.
SMTP_DEADLINE = 60.0
# Writing an .eml file takes microseconds; a message claimed by a process that died is tried again
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
        name, address = parseaddr(flattened(self.sender))
        self._from = formataddr((name, address), charset="utf-8")
        self._domain = address.rpartition("@")[2] or "passerelle.invalid"

    def compose(
        self, message_id: str, to: str, email: Email, attachments: Sequence[Attachment] = ()
    ) -> Outgoing:
        """The message as it is sent, written here in one pass: `email.message.EmailMessage` spent
        milliseconds on each (its policy machinery), this spends microseconds."""
        # Every header is made one line: a member's name or a project's title can neither break the
        # message nor add headers.
        headers = {
            "From": self._from,
            "To": Address(addr_spec=flattened(to)).addr_spec,  # refuses what no mailbox can be
            "Subject": _encoded(flattened(email.subject)),
            "Date": format_datetime(datetime.now(UTC)),
            # The same id on every try: a receiving server or client can tell a retried send from a new one.
            "Message-ID": f"<{message_id}@{self._domain}>",
            "Auto-Submitted": "auto-generated",
            "Content-Language": _encoded(flattened(email.language)),
            "MIME-Version": "1.0",
        }
        lines = [f"{name}: {value}" for name, value in headers.items()]
        texts = [
            _part(f"text/{subtype}", content)
            for subtype, content in (("plain", email.text), ("html", email.html))
        ]
        body = _multipart("alternative", texts)
        if attachments:
            files = [
                _part(
                    file.content_type,
                    file.content,
                    f'Content-Disposition: attachment; filename="{file.filename}"',
                )
                for file in attachments
            ]
            body = _multipart("mixed", [body, *files])
        return Outgoing(to, "\r\n".join([*lines, *body, ""]).encode("utf-8"))

    @property
    def deadline(self) -> float:
        """The longest one send may take."""
        return FILE_DEADLINE if self.smtp is None else SMTP_DEADLINE

    def forget(self, message_ids: Iterable[str]) -> None:
        """Delete the .eml files of these messages (an erased member's): their name and address go too."""
        if self.smtp is None:
            for message_id in message_ids:
                (self.directory / f"{message_id}.eml").unlink(missing_ok=True)

    async def send(self, message_id: str, message: Outgoing) -> str:
        """Send, and say where it went (for the delivery log)."""
        if self.smtp is None:
            # A few kilobytes written without fsync take microseconds: handing them to a thread
            # (and waking the loop when it is done) would cost more than writing them here.
            return self._write(message_id, message)
        return await self._send_smtp(self.smtp, message)

    async def _send_smtp(self, smtp: SmtpServer, message: Outgoing) -> str:
        try:
            async with asyncio.timeout(SMTP_DEADLINE):
                await aiosmtplib.send(
                    message.data,
                    sender=parseaddr(self._from)[1],
                    recipients=[message.to],
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

    def _write(self, message_id: str, message: Outgoing) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Named after the message alone: a try repeated after a crash replaces its own file.
        path = self.directory / f"{message_id}.eml"
        partial = path.with_suffix(".eml.partial")
        partial.write_bytes(message.data)
        os.replace(partial, path)  # readers never see half a message
        return str(path)


@dataclass(frozen=True)
class Outgoing:
    """An e-mail ready to go: its recipient and its bytes."""

    to: str
    data: bytes


@dataclass(frozen=True)
class Attachment:
    """A text file sent with an e-mail (a gathering's calendar)."""

    filename: str
    content_type: str
    content: str


def _part(content_type: str, content: str, *headers: str) -> list[str]:
    encoded = base64.encodebytes(content.encode()).decode("ascii").rstrip("\n").replace("\n", "\r\n")
    return [
        f'Content-Type: {content_type}; charset="utf-8"',
        "Content-Transfer-Encoding: base64",
        *headers,
        "",
        encoded,
    ]


def _multipart(subtype: str, parts: list[list[str]]) -> list[str]:
    """A multipart entity's lines, its headers first."""
    boundary = f"=_{uuid.uuid4().hex}"
    lines = [f'Content-Type: multipart/{subtype}; boundary="{boundary}"']
    for part in parts:
        lines += ["", f"--{boundary}", *part]
    return [*lines, f"--{boundary}--"]


def _encoded(value: str) -> str:
    """A header value as is when ASCII, else as RFC 2047 encoded words (folded, so never too long)."""
    if value.isascii() and len(value) < 900:
        return value
    return Header(value, "utf-8").encode()


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
