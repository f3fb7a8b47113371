"""Webhooks out: a JSON POST signed as Standard Webhooks (standardwebhooks.com) says.

Each call carries `webhook-id` (the delivery id, the same on every retry), `webhook-timestamp` (Unix
seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed with
the bytes of the `whsec_<base64>` secret, so that any official verifier accepts it. After a rotation
the old secret signs too, for an overlap the operator sets: the header then holds both signatures,
space separated. The headers before Standard Webhooks (`X-Passerelle-Timestamp`,
`X-Passerelle-Signature: v1=<hex HMAC of "<timestamp>." + body>`, `X-Passerelle-Delivery`) are
still sent, signed with the current secret, for one release: they are deprecated (`verify`).

Targets in loopback, private, link-local or otherwise non-public networks are refused (a member
must not make the platform call into the operator's own network) unless the operator allows those
networks. The check is made on the URL when it is saved and again, on the resolved address, at each
send; the request then goes to the address that was checked, so DNS cannot change it in between.
An IPv6 address that carries an IPv4 one (mapped, compatible, SIIT, NAT64, 6to4) is judged by the
IPv4 address it leads to; forms whose destination cannot be told (Teredo, local-use NAT64) are refused.

A receiver cannot hold a sender: the whole call (resolution, connection, request, answer) has one
deadline, and only the first few KB of the answer are read.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import ipaddress
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit, urlunsplit

import httpx

from .mail import DeliveryError

WEBHOOK_ID = "webhook-id"
WEBHOOK_TIMESTAMP = "webhook-timestamp"
WEBHOOK_SIGNATURE = "webhook-signature"
# Deprecated: the headers before Standard Webhooks, kept for one release.
SIGNATURE = "X-Passerelle-Signature"
TIMESTAMP = "X-Passerelle-Timestamp"
DELIVERY = "X-Passerelle-Delivery"
SECRET_PREFIX = "whsec_"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

ANSWER_LIMIT = 4096  # bytes of a receiver's answer read at most: its status is what counts

# IPv6 ranges whose last 32 bits are the IPv4 address the packets end up at.
_EMBEDDING_LAST_32_BITS = (
    ipaddress.ip_network("::ffff:0:0/96"),  # IPv4-mapped
    ipaddress.ip_network("::ffff:0:0:0/96"),  # SIIT, IPv4-translated
    ipaddress.ip_network("64:ff9b::/96"),  # NAT64, well-known prefix
    ipaddress.ip_network("::/96"),  # IPv4-compatible (deprecated)
)
# IPv6 ranges that lead to an IPv4 address we cannot tell from the address alone.
_OPAQUE = (
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64: the operator's own translators
    ipaddress.ip_network("2001::/32"),  # Teredo: through a relay of unknown whereabouts
)


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    """The key a Standard Webhooks verifier derives from the secret, whatever its age: secrets made
    before were URL-safe base64, decoded the same lenient way (padding added, other characters
    skipped), so most of their receivers may switch verifiers without a rotation. The few old
    secrets a verifier cannot decode at all still sign (with their URL-safe bytes): their receivers
    rotate before switching."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded + "==")
    except binascii.Error:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))


def standard_signature(secrets_: Sequence[str], delivery_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64>` for each secret, space separated (the current one first)."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()
        for secret in secrets_
    )


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Deprecated `X-Passerelle-Signature`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: float = 300.0) -> bool:
    """Deprecated: what a receiver of `X-Passerelle-Signature` runs (the signature matches and the
    timestamp is recent); new receivers use a Standard Webhooks verifier."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs(time.time() - sent_at) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent_at, body), signature)


class TargetRefused(ValueError):
    pass


def allowed_networks(cidrs: list[str]) -> list[Network]:
    return [ipaddress.ip_network(cidr, strict=False) for cidr in cidrs]


def check_url(url: str, allowed: list[Network]) -> None:
    """Refuse what can never be a webhook target; a host name is checked again when resolved."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise TargetRefused("a webhook URL must start with https:// (or http://)")
    if not parts.hostname:
        raise TargetRefused("a webhook URL needs a host")
    if parts.username or parts.password:
        raise TargetRefused("credentials do not belong in a webhook URL; the signature authenticates us")
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        if parts.hostname.lower() in ("localhost", "localhost.localdomain") or parts.hostname.endswith(
            ".localhost"
        ):
            _check_address(ipaddress.ip_address("127.0.0.1"), allowed)
        return
    _check_address(address, allowed)


def _check_address(address: Address, allowed: list[Network]) -> None:
    if any(address in network for network in allowed):
        return
    if isinstance(address, ipaddress.IPv6Address):
        if any(address in network for network in _OPAQUE):
            raise TargetRefused(
                f"{address} goes through a translator or relay (Teredo, local NAT64) to an address "
                "that cannot be checked; webhooks go to public hosts"
            )
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            try:
                _check_address(embedded, allowed)
            except TargetRefused as error:
                raise TargetRefused(f"{address} leads to {error}") from error
            return
    if address.is_global and not address.is_multicast:
        return
    raise TargetRefused(
        f"{address} is a loopback, private, link-local or reserved address; webhooks go to public hosts"
    )


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one is a disguise of, if any."""
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in network for network in _EMBEDDING_LAST_32_BITS):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


async def _resolve(host: str, port: int, allowed: list[Network]) -> Address:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise DeliveryError(f"webhook host {host} does not resolve: {error}") from error
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:  # every address must pass: a name may not smuggle in a private one
        _check_address(address, allowed)
    return addresses[0]


class WebhookSender:
    def __init__(
        self, allowed: list[Network], timeout: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.allowed = allowed
        self.timeout = timeout
        self.clock = clock

    async def post(self, url: str, secrets_: Sequence[str], delivery_id: str, body: bytes) -> str:
        """POST within `timeout` seconds all told, whatever the receiver does (httpx's own timeouts
        bound each read, so a receiver trickling bytes could hold us for ever)."""
        host = urlsplit(url).hostname or ""
        try:
            async with asyncio.timeout(self.timeout):
                return await self._post(url, secrets_, delivery_id, body)
        except TimeoutError as error:
            raise DeliveryError(f"webhook {host}: no full answer within {self.timeout:g} s") from error

    async def _post(self, url: str, secrets_: Sequence[str], delivery_id: str, body: bytes) -> str:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            check_url(url, self.allowed)
            address = await _resolve(host, port, self.allowed)
        except TargetRefused as error:
            raise DeliveryError(str(error), permanent=True) from error
        literal = f"[{address}]" if address.version == 6 else str(address)
        pinned = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
        timestamp = int(self.clock())
        headers = {
            "Host": parts.netloc.rsplit("@", 1)[-1],
            "Content-Type": "application/json",
            "User-Agent": "Passerelle-Webhooks/1",
            WEBHOOK_ID: delivery_id,
            WEBHOOK_TIMESTAMP: str(timestamp),
            WEBHOOK_SIGNATURE: standard_signature(secrets_, delivery_id, timestamp, body),
            TIMESTAMP: str(timestamp),
            SIGNATURE: sign(secrets_[0], timestamp, body),
            DELIVERY: delivery_id,
        }
        try:
            async with (
                httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client,
                client.stream(
                    "POST", pinned, content=body, headers=headers, extensions={"sni_hostname": host}
                ) as response,
            ):
                answer = await _read_at_most(response, ANSWER_LIMIT)
        except httpx.HTTPError as error:
            raise DeliveryError(f"webhook {host}: {error!r}") from error
        if not 200 <= response.status_code < 300:
            excerpt = answer[:200].decode("utf-8", errors="replace")
            raise DeliveryError(f"webhook {host} answered {response.status_code}: {excerpt}")
        return f"webhook {host} {response.status_code}"


async def _read_at_most(response: httpx.Response, limit: int) -> bytes:
    """The start of an answer; the rest is never read (closing the stream drops the connection)."""
    read = b""
    async for chunk in response.aiter_raw():
        read += chunk
        if len(read) >= limit:
            break
    return read[:limit]
