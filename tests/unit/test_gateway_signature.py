"""`verify_signature`, the one check of the gateway's v1 signature (README, "Sending
events over HTTP"): true only for the exact body, signed with the secret, at a time
within the tolerance; false, never an exception, for anything else."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from services.gateway.signature import sign, verify_signature

SECRET, NOW, BODY = "s3cret", 1_790_000_000, b'[{"event_id":"e-1"}]'


def by_hand(secret: str, timestamp: int, body: bytes) -> str:
    """The signature as the README tells an integrator to compute it."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def test_a_signature_made_as_the_readme_says_verifies() -> None:
    assert sign(SECRET, NOW, BODY) == by_hand(SECRET, NOW, BODY)
    assert verify_signature(SECRET, str(NOW), BODY, by_hand(SECRET, NOW, BODY), now=NOW)


def test_any_one_of_several_values_is_enough_while_a_secret_is_rotated() -> None:
    header = f"{by_hand('old', NOW, BODY)}, {by_hand(SECRET, NOW, BODY)}"
    assert verify_signature(SECRET, NOW, BODY, header, now=NOW)
    assert verify_signature("old", NOW, BODY, header, now=NOW)
    assert not verify_signature("other", NOW, BODY, header, now=NOW)


@pytest.mark.parametrize(("secret", "timestamp", "body", "header"), [
    ("", NOW, BODY, by_hand("", NOW, BODY)),                      # no secret: fail closed
    (SECRET, None, BODY, by_hand(SECRET, NOW, BODY)),             # no timestamp
    (SECRET, NOW, BODY, None),                                    # no signature
    (SECRET, NOW, BODY, ""),
    (SECRET, "1790000000.5", BODY, by_hand(SECRET, NOW, BODY)),   # not Unix seconds
    (SECRET, "yesterday", BODY, by_hand(SECRET, NOW, BODY)),
    (SECRET, NOW - 301, BODY, by_hand(SECRET, NOW - 301, BODY)),  # too old
    (SECRET, NOW + 301, BODY, by_hand(SECRET, NOW + 301, BODY)),  # from the future
    (SECRET, NOW, BODY + b" ", by_hand(SECRET, NOW, BODY)),       # one byte more
    (SECRET, NOW, BODY, by_hand(SECRET, NOW + 1, BODY)),          # signed at another time
    (SECRET, NOW, BODY, by_hand("guess", NOW, BODY)),
    (SECRET, NOW, BODY, by_hand(SECRET, NOW, BODY).replace("v1=", "v2=")),  # another scheme
    (SECRET, NOW, BODY, by_hand(SECRET, NOW, BODY)[3:]),          # no scheme
    (SECRET, NOW, BODY, "v1=zz\udcff,,=,v1"),                     # garbage
])
def test_anything_else_is_refused_without_raising(secret, timestamp, body, header) -> None:
    assert verify_signature(secret, timestamp, body, header, now=NOW) is False


def test_the_edges_of_the_tolerance_still_count() -> None:
    for at in (NOW - 300, NOW + 300):
        assert verify_signature(SECRET, at, BODY, by_hand(SECRET, at, BODY), now=NOW)
