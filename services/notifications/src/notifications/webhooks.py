"""Webhooks out: a JSON POST signed with HMAC-SHA256 over the timestamp and the body.

A receiver checks `X-Passerelle-Signature: v1=<hex>` against
`hmac_sha256(secret, f"{X-Passerelle-Timestamp}." + raw body)` and refuses old timestamps (`verify`).

Targets in loopback, private, link-local or otherwise non-public networks are refused (a member
must not make the platform call into the operator's own network) unless the operator allows those
networks. The check is made on the URL when it is saved and again, on the resolved address, at each
send; the request then goes to the address that was checked, so DNS cannot change it in between.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import secrets
import socket
import time
from urllib.parse import urlsplit, urlunsplit

import httpx

from .mail import DeliveryError

SIGNATURE = "X-Passerelle-Signature"
TIMESTAMP = "X-Passerelle-Timestamp"
DELIVERY = "X-Passerelle-Delivery"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: float = 300.0) -> bool:
    """What a receiver runs: the signature matches and the timestamp is recent (no replays)."""
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
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if (address.is_global and not address.is_multicast) or any(address in network for network in allowed):
        return
    raise TargetRefused(
        f"{address} is a loopback, private, link-local or reserved address; webhooks go to public hosts"
    )


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
    def __init__(self, allowed: list[Network], timeout: float) -> None:
        self.allowed = allowed
        self.timeout = timeout

    async def post(self, url: str, secret: str, delivery_id: str, body: bytes) -> str:
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
        timestamp = int(time.time())
        headers = {
            "Host": parts.netloc.rsplit("@", 1)[-1],
            "Content-Type": "application/json",
            "User-Agent": "Passerelle-Webhooks/1",
            TIMESTAMP: str(timestamp),
            SIGNATURE: sign(secret, timestamp, body),
            DELIVERY: delivery_id,
        }
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
                response = await client.post(
                    pinned, content=body, headers=headers, extensions={"sni_hostname": host}
                )
        except httpx.HTTPError as error:
            raise DeliveryError(f"webhook {host}: {error!r}") from error
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"webhook {host} answered {response.status_code}")
        return f"webhook {host} {response.status_code}"
