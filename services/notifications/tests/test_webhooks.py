import time

import pytest
from notifications.webhooks import TargetRefused, allowed_networks, check_url, sign, verify


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
