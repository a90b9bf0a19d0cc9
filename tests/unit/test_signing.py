"""Webhook signatures (scheme v2): what kefu sends verifies with the shared secret; the
notification id, the attempt, the timestamp and the body are all covered, so a captured
request replayed under another id or attempt fails, and so do a tampered body, a wrong
secret, a stale or malformed timestamp, and the old v1 scheme. No secret, no signing:
kefu refuses rather than sending unsigned by accident."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from services.notifier.signing import (
    ATTEMPT_HEADER,
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    signed_headers,
    unsigned_headers,
    verify_request,
    verify_signature,
)

SECRET = "whsec-test"
BODY = '{"notification_id":"n-1","text":"亲，您的订单已发货"}'.encode()
NOW = 1_800_000_000
ID = "4b1c6a2e-9f0d-5c3b-8a7e-1d2f3a4b5c6d"


def check(header: str, *, secret=SECRET, timestamp=NOW, notification_id=ID, attempt=1,
          body=BODY, now=NOW, **kwargs) -> bool:
    return verify_signature(secret, timestamp=timestamp, notification_id=notification_id,
                            attempt=attempt, body=body, signature=header, now=now, **kwargs)


def test_signature_is_hmac_sha256_over_timestamp_id_attempt_and_body():
    signed = f"{NOW}.{ID}.3.".encode() + BODY
    expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, ID, 3, BODY) == f"v2={expected}"


def test_signed_headers_verify_with_the_shared_secret():
    headers = signed_headers(SECRET, BODY, ID, 2, now=NOW)
    assert headers[TIMESTAMP_HEADER] == str(NOW) and headers[ID_HEADER] == ID
    assert headers[ATTEMPT_HEADER] == "2" and headers[SIGNATURE_HEADER].startswith("v2=")
    assert verify_request(SECRET, headers, BODY, now=NOW + 10)
    lower = {name.lower(): value for name, value in headers.items()}
    assert verify_request(SECRET.encode(), lower, BODY.decode(), now=NOW), "any header case"


def test_a_request_replayed_under_another_id_or_attempt_fails():
    headers = signed_headers(SECRET, BODY, ID, 1, now=NOW)
    assert not verify_request(SECRET, {**headers, ID_HEADER: "another-id"}, BODY, now=NOW)
    assert not verify_request(SECRET, {**headers, ATTEMPT_HEADER: "2"}, BODY, now=NOW)


def test_the_old_v1_scheme_is_refused():
    v1 = "v1=" + hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert not check(v1)


def test_signing_needs_a_secret_and_unsigned_is_only_ever_explicit():
    with pytest.raises(ValueError, match="secret"):
        signed_headers(None, BODY, ID, 1, now=NOW)
    with pytest.raises(ValueError, match="secret"):
        signed_headers("", BODY, ID, 1, now=NOW)
    headers = unsigned_headers(ID, 1, now=NOW)
    assert SIGNATURE_HEADER not in headers and headers[ID_HEADER] == ID
    assert not verify_request(SECRET, headers, BODY, now=NOW)


def test_tampered_body_fails():
    header = sign(SECRET, NOW, ID, 1, BODY)
    assert not check(header, body=BODY.replace(b"n-1", b"n-2"))
    assert not check(header, body=BODY + b" ")


def test_wrong_secret_fails():
    header = sign(SECRET, NOW, ID, 1, BODY)
    assert not check(header, secret="whsec-other")
    assert not check(header, secret="")


def test_stale_or_future_timestamp_fails():
    header = sign(SECRET, NOW, ID, 1, BODY)
    assert check(header, now=NOW + 300)
    assert not check(header, now=NOW + 301)
    assert not check(header, now=NOW - 301)
    assert check(header, tolerance=3600, now=NOW + 3000)


def test_timestamp_is_part_of_what_is_signed():
    header = sign(SECRET, NOW, ID, 1, BODY)
    assert not check(header, timestamp=NOW + 1)


def test_malformed_input_is_rejected_without_raising():
    header = sign(SECRET, NOW, ID, 1, BODY)
    assert not check(header, timestamp="yesterday")
    assert not check(header, timestamp=None)
    assert not check(None)
    assert not check(header.removeprefix("v2="))
    assert not check("v1=" + header[3:])
    assert not check("v2=签名")
    for attempt in ("01", "+1", " 1", "1.0", "", None, "一"):
        assert not check(sign(SECRET, NOW, ID, 1, BODY), attempt=attempt), attempt
    assert not verify_request(SECRET, {}, BODY, now=NOW)


def test_an_id_that_could_shift_the_fields_is_refused():
    """`{timestamp}.{id}.{attempt}.{body}` reads one way only: ids have no dot."""
    header = sign(SECRET, NOW, "a", 1, b"2." + BODY)
    assert not check(header, notification_id="a.1", attempt=2)
    with pytest.raises(ValueError, match="notification id"):
        sign(SECRET, NOW, "a.1", 2, BODY)


def test_any_of_several_signatures_may_match_during_rotation():
    header = f"{sign('whsec-old', NOW, ID, 1, BODY)}, {sign(SECRET, NOW, ID, 1, BODY)}"
    assert check(header)
    assert check(header, secret="whsec-old")
    assert not check(header, secret="whsec-third")


def test_the_receiver_guides_example_verifies_what_kefu_sends():
    """The standalone check in services/notifier/README.md agrees with kefu's signing."""
    guide = (Path(__file__).resolve().parents[2] / "services/notifier/README.md").read_text()
    example = guide.split("In Python without kefu:\n\n```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(example, namespace)  # noqa: S102 - our own documentation
    verify = namespace["verify"]
    headers = signed_headers(SECRET, BODY, ID, 2)
    assert verify(SECRET.encode(), headers, BODY)
    assert not verify(SECRET.encode(), {**headers, ID_HEADER: "another-id"}, BODY)
    assert not verify(SECRET.encode(), {**headers, ATTEMPT_HEADER: "3"}, BODY)
    assert not verify(b"wrong", headers, BODY)
    rotating = signed_headers(f"{SECRET},whsec-old", BODY, ID, 2)
    assert verify(b"whsec-old", rotating, BODY) and verify(SECRET.encode(), rotating, BODY)


def test_while_a_secret_is_rotated_each_request_is_signed_with_every_one():
    """`KEFU_WEBHOOK_SECRET=new,old`: a receiver still on the old secret and one already
    on the new one both verify the same request; a third secret does not."""
    headers = signed_headers("whsec-new, whsec-old", BODY, ID, 1, now=NOW)
    assert headers[SIGNATURE_HEADER].count("v2=") == 2
    assert verify_request("whsec-new", headers, BODY, now=NOW)
    assert verify_request("whsec-old", headers, BODY, now=NOW)
    assert not verify_request("whsec-other", headers, BODY, now=NOW)
    assert not verify_request("whsec-new, whsec-old", headers, BODY, now=NOW)
    with pytest.raises(ValueError, match="secret"):
        signed_headers(" , ", BODY, ID, 1, now=NOW)
