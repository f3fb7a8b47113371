"""Real receivers on loopback for the notifications tests: an SMTP server and a webhook endpoint."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any, cast

from aiosmtpd.controller import Controller
from passerelle.embedded.ports import free_port


class Mailbox:
    """An aiosmtpd handler keeping what it accepts; it can refuse the first sends (451, try later)."""

    def __init__(self, refuse_first: int = 0) -> None:
        self.messages: list[EmailMessage] = []
        self.refusals = refuse_first
        self.tries = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.tries += 1
        if self.refusals > 0:
            self.refusals -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        self.messages.append(cast(EmailMessage, message_from_bytes(envelope.content, policy=default)))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]


@contextlib.contextmanager
def smtp_server(mailbox: Mailbox) -> Iterator[str]:
    """A real SMTP server on loopback; yields the PASSERELLE_SMTP_URL that reaches it."""
    port = free_port("127.0.0.1")
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}?starttls=off"
    finally:
        controller.stop()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    """A minimal HTTP/1.1 endpoint; answers each POST with the next status of `statuses` (then 200),
    `answer_after` seconds after reading it. `most_at_once` is the most calls it had in hand at once."""

    statuses: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    answer_after: float = 0.0
    most_at_once: int = 0
    url: str = ""
    _server: asyncio.Server | None = None
    _in_hand: int = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/hooks/passerelle"

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        path = head[0].split(" ")[1]
        headers = {}
        for line in head[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self._in_hand += 1
        self.most_at_once = max(self.most_at_once, self._in_hand)
        try:
            await asyncio.sleep(self.answer_after)
        finally:
            self._in_hand -= 1
        self.requests.append(Received(path, headers, body))
        status = self.statuses.pop(0) if self.statuses else 200
        writer.write(f"HTTP/1.1 {status} Status\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()


@dataclass
class HostileReceiver:
    """A webhook endpoint that never lets go: `trickle` sends its answer's head one byte at a time
    for ever (each byte well within any per-read timeout); `flood` answers 200 with a body of
    `flood_bytes`, written as fast as the caller reads. `written` counts the bytes sent per call."""

    mode: str  # "trickle" | "flood"
    byte_every: float = 0.3
    flood_bytes: int = 64 * 1024 * 1024
    written: list[int] = field(default_factory=list)
    url: str = ""
    _server: asyncio.Server | None = None
    _stopping: bool = False

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/hooks/{self.mode}"

    async def stop(self) -> None:
        self._stopping = True
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        call = len(self.written)
        self.written.append(0)
        try:
            await reader.readuntil(b"\r\n\r\n")
            if self.mode == "trickle":
                await self._trickle(writer, call)
            else:
                await self._flood(writer, call)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the caller hung up: what it is meant to do
        finally:
            writer.close()

    async def _trickle(self, writer: asyncio.StreamWriter, call: int) -> None:
        head = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100_000
        for byte in head:
            if self._stopping:
                return
            writer.write(bytes([byte]))
            await writer.drain()
            self.written[call] += 1
            await asyncio.sleep(self.byte_every)

    async def _flood(self, writer: asyncio.StreamWriter, call: int) -> None:
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {self.flood_bytes}\r\n\r\n".encode())
        chunk = b"x" * 65536
        while self.written[call] < self.flood_bytes and not self._stopping:
            writer.write(chunk)
            await writer.drain()
            self.written[call] += len(chunk)
