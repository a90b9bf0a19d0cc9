"""Webhook signatures: what kefu sends verifies with the shared secret; a tampered body,
a wrong secret, a stale or malformed timestamp or header do not."""

from __future__ import annotations

import hashlib
import hmac

from services.notifier.signing import (
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    signed_headers,
    verify_signature,
)

SECRET = "whsec-test"
BODY = '{"notification_id":"n-1","text":"亲，您的订单已发货"}'.encode()
NOW = 1_800_000_000


def test_signature_is_hmac_sha256_over_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == f"v1={expected}"


def test_signed_headers_verify_with_the_shared_secret():
    headers = signed_headers(SECRET, BODY, "n-1", now=NOW)
    assert headers[TIMESTAMP_HEADER] == str(NOW) and headers[ID_HEADER] == "n-1"
    assert verify_signature(SECRET, headers[TIMESTAMP_HEADER], BODY, headers[SIGNATURE_HEADER],
                            now=NOW + 10)
    assert verify_signature(SECRET.encode(), NOW, BODY.decode(), headers[SIGNATURE_HEADER],
                            now=NOW)


def test_no_secret_means_no_signature_header():
    assert SIGNATURE_HEADER not in signed_headers(None, BODY, "n-1", now=NOW)


def test_tampered_body_fails():
    header = sign(SECRET, NOW, BODY)
    assert not verify_signature(SECRET, NOW, BODY.replace(b"n-1", b"n-2"), header, now=NOW)
    assert not verify_signature(SECRET, NOW, BODY + b" ", header, now=NOW)


def test_wrong_secret_fails():
    header = sign(SECRET, NOW, BODY)
    assert not verify_signature("whsec-other", NOW, BODY, header, now=NOW)
    assert not verify_signature("", NOW, BODY, header, now=NOW)


def test_stale_or_future_timestamp_fails():
    header = sign(SECRET, NOW, BODY)
    assert verify_signature(SECRET, NOW, BODY, header, now=NOW + 300)
    assert not verify_signature(SECRET, NOW, BODY, header, now=NOW + 301)
    assert not verify_signature(SECRET, NOW, BODY, header, now=NOW - 301)
    assert verify_signature(SECRET, NOW, BODY, header, tolerance=3600, now=NOW + 3000)


def test_timestamp_is_part_of_what_is_signed():
    header = sign(SECRET, NOW, BODY)
    assert not verify_signature(SECRET, NOW + 1, BODY, header, now=NOW)


def test_malformed_input_is_rejected_without_raising():
    header = sign(SECRET, NOW, BODY)
    assert not verify_signature(SECRET, "yesterday", BODY, header, now=NOW)
    assert not verify_signature(SECRET, None, BODY, header, now=NOW)
    assert not verify_signature(SECRET, NOW, BODY, None, now=NOW)
    assert not verify_signature(SECRET, NOW, BODY, header.removeprefix("v1="), now=NOW)
    assert not verify_signature(SECRET, NOW, BODY, "v0=" + header[3:], now=NOW)
    assert not verify_signature(SECRET, NOW, BODY, "v1=签名", now=NOW)


def test_any_of_several_signatures_may_match_during_rotation():
    header = f"{sign('whsec-old', NOW, BODY)}, {sign(SECRET, NOW, BODY)}"
    assert verify_signature(SECRET, NOW, BODY, header, now=NOW)
    assert verify_signature("whsec-old", NOW, BODY, header, now=NOW)
    assert not verify_signature("whsec-third", NOW, BODY, header, now=NOW)
