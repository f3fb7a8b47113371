import binascii
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from notifications.preferences import Preferences
from notifications.webhooks import (
    TargetRefused,
    allowed_networks,
    check_url,
    new_secret,
    sign,
    standard_signature,
    verify,
)
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8080/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.1/hook",
        "https://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "file:///etc/passwd",
        "https://user:secret@example.org/hook",
    ],
)
def test_targets_that_are_not_public_web_hosts_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused):
        check_url(url, [])


@pytest.mark.parametrize(
    "url",
    [
        "http://[64:ff9b::10.0.0.1]/hook",  # NAT64, well-known prefix, to a private address
        "http://[64:ff9b::127.0.0.1]/hook",
        "http://[64:ff9b:1::8.8.8.8]/hook",  # local-use NAT64: the operator's own translators
        "http://[2002:a9fe:a9fe::1]/hook",  # 6to4 of 169.254.169.254
        "http://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
        "http://[::10.0.0.1]/hook",  # IPv4-compatible
        "http://[::127.0.0.1]/hook",
        "http://[::ffff:0:192.168.1.1]/hook",  # SIIT, IPv4-translated
        "http://[::ffff:0:127.0.0.1]/hook",
        "http://[::ffff:7f00:1]/hook",  # IPv4-mapped, written in hex
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",  # Teredo
        "http://[2001::1]/hook",
    ],
)
def test_ipv6_forms_that_embed_a_private_ipv4_address_or_hide_it_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused):
        check_url(url, [])


def test_ipv6_forms_that_embed_a_public_ipv4_address_are_judged_by_it() -> None:
    for url in (
        "http://[64:ff9b::8.8.8.8]/hook",
        "http://[2002:808:808::1]/hook",
        "http://[::ffff:8.8.8.8]/",
    ):
        check_url(url, [])
    check_url("http://[64:ff9b::10.8.1.2]/hook", allowed_networks(["10.8.0.0/16"]))
    check_url("http://[64:ff9b:1::a08:102]/hook", allowed_networks(["64:ff9b:1::/48"]))


def test_public_hosts_and_networks_the_operator_allows_are_accepted() -> None:
    check_url("https://hooks.example.org/passerelle", [])
    check_url("https://8.8.8.8/hook", [])
    check_url("http://10.8.1.2:9000/hook", allowed_networks(["10.8.0.0/16"]))
    with pytest.raises(TargetRefused):
        check_url("http://10.9.1.2/hook", allowed_networks(["10.8.0.0/16"]))


def test_a_signature_holds_only_for_that_secret_body_and_a_recent_timestamp() -> None:
    now = int(time.time())
    body = b'{"notifications": []}'
    signature = sign("whsec_a", now, body)
    assert verify("whsec_a", str(now), body, signature)
    assert not verify("whsec_b", str(now), body, signature)
    assert not verify("whsec_a", str(now), body + b"x", signature)
    assert not verify("whsec_a", str(now + 1), body, signature)
    old = now - 3600
    assert not verify("whsec_a", str(old), body, sign("whsec_a", old, body))
    assert not verify("whsec_a", "yesterday", body, signature)


def test_a_standard_signature_is_what_the_official_verifier_accepts_even_for_a_secret_made_before() -> None:
    now = int(time.time())
    body = b'{"notifications": []}'
    # Secrets made before Standard Webhooks were `"whsec_" + secrets.token_urlsafe(32)`.
    older = "whsec_" + "A" * 20 + "_" * 3 + "B" * 20  # its 40 standard characters decode
    for secret in (new_secret(), older):
        headers = {
            "webhook-id": "msg-1",
            "webhook-timestamp": str(now),
            "webhook-signature": standard_signature([secret], "msg-1", now, body),
        }
        assert Webhook(secret).verify(body, headers) == {"notifications": []}
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(body + b" ", headers)
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", new_secret())


def test_an_old_secret_no_verifier_can_decode_still_signs_and_a_rotation_fixes_it() -> None:
    undecodable = "whsec_" + "A" * 21 + "-" * 2 + "B" * 20  # 41 standard characters: not base64
    with pytest.raises(binascii.Error):
        Webhook(undecodable)
    first, second = (standard_signature([undecodable], "msg-1", 1, body) for body in (b"{}", b"[]"))
    assert first.startswith("v1,") and first != second
    rotated = Preferences(webhook_url="https://hooks.example.org/p").with_secret(
        Preferences(webhook_url="https://hooks.example.org/p", webhook_secret=undecodable), True, T0
    )
    assert Webhook(rotated.webhook_secret)  # what the receiver switches to


def test_after_a_rotation_the_old_secret_signs_too_until_the_overlap_ends() -> None:
    first = Preferences(webhook_url="https://hooks.example.org/p").with_secret(Preferences(), False, T0)
    assert first.previous_webhook_secret is None and first.signing_secrets(T0, DAY) == [first.webhook_secret]
    kept = Preferences(webhook_url=first.webhook_url).with_secret(first, False, T0 + DAY)
    assert kept.webhook_secret == first.webhook_secret
    rotated = Preferences(webhook_url=first.webhook_url).with_secret(kept, True, T0)
    assert rotated.webhook_secret != first.webhook_secret
    assert rotated.signing_secrets(T0 + DAY / 2, DAY) == [rotated.webhook_secret, first.webhook_secret]
    saved_again = Preferences(webhook_url=first.webhook_url).with_secret(rotated, False, T0 + DAY / 2)
    assert saved_again.signing_secrets(T0 + DAY / 2, DAY) == rotated.signing_secrets(T0 + DAY / 2, DAY)
    assert rotated.signing_secrets(T0 + DAY, DAY) == [rotated.webhook_secret]
    dropped = Preferences().with_secret(rotated, False, T0)
    assert dropped.signing_secrets(T0, DAY) == []


T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)
