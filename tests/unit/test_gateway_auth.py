"""Who may send events to the gateway: signatures over the raw body with per-shop
secrets from the policy, KEFU_INGEST_SECRET for the other shops, and nobody at all
for a shop without a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.core.policy import load_policy
from services.gateway.auth import IngestConfigError, Refused, RequestAuth, load_ingest_secrets
from services.gateway.signature import sign

NOW = 1_790_000_000
BODY = b'{"event_id": "e-1", "shop_id": "shop-a"}'
POLICY = """\
shops:
  shop-own:
    ingest: {secret_env: SHOP_OWN_SECRET}
  shop-twin:
    ingest: {secret_env: SHOP_TWIN_SECRET}
  shop-listed:
    timezone: Asia/Tokyo
"""


def policy(tmp_path: Path, text: str = POLICY):
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return load_policy(path)


def auth(tmp_path: Path, fallback: str | None = "global-secret", environ=None) -> RequestAuth:
    environ = {"SHOP_OWN_SECRET": "own-secret", "SHOP_TWIN_SECRET": "own-secret"} \
        if environ is None else environ
    secrets = load_ingest_secrets(policy(tmp_path), environ, fallback)
    return RequestAuth(secrets, clock=lambda: NOW)


def verify(a: RequestAuth, secret: str, *, at: int = NOW, body: bytes = BODY,
           signed: bytes | None = None):
    return a.verify(str(at), body, sign(secret, at, signed if signed is not None else body))


def test_the_global_secret_covers_every_shop_without_its_own(tmp_path) -> None:
    signed = verify(auth(tmp_path), "global-secret")
    assert not isinstance(signed, Refused)
    assert signed.covers("shop-a") and signed.covers("shop-listed")
    assert not signed.covers("shop-own")


def test_a_shop_secret_covers_the_shops_that_have_it_and_no_other(tmp_path) -> None:
    signed = verify(auth(tmp_path), "own-secret")
    assert not isinstance(signed, Refused)
    assert signed.covers("shop-own") and signed.covers("shop-twin")
    assert not signed.covers("shop-a")


@pytest.mark.parametrize("case", ["wrong secret", "body changed", "stale", "future", "none",
                                  "no signature", "no timestamp"])
def test_bad_signatures_are_refused_and_say_why(tmp_path, case) -> None:
    a = auth(tmp_path)
    refused = {
        "wrong secret": lambda: verify(a, "guessed"),
        "body changed": lambda: verify(a, "global-secret", signed=BODY.replace(b"e-1", b"e-2")),
        "stale": lambda: verify(a, "global-secret", at=NOW - 301),
        "future": lambda: verify(a, "global-secret", at=NOW + 301),
        "none": lambda: a.verify(None, BODY, None),
        "no signature": lambda: a.verify(str(NOW), BODY, None),
        "no timestamp": lambda: a.verify(None, BODY, sign("global-secret", NOW, BODY)),
    }[case]()
    assert isinstance(refused, Refused)
    expected = {"stale": "300 s", "future": "300 s", "none": "required", "no signature":
                "required", "no timestamp": "required"}.get(case, "matches no")
    assert expected in refused.detail


def test_the_edge_of_the_window_still_counts(tmp_path) -> None:
    assert not isinstance(verify(auth(tmp_path), "global-secret", at=NOW - 300), Refused)


def test_a_timestamp_that_is_no_number_is_refused(tmp_path) -> None:
    a = auth(tmp_path)
    refused = a.verify("yesterday", BODY, sign("global-secret", "yesterday", BODY))
    assert isinstance(refused, Refused) and "Unix seconds" in refused.detail


def test_without_any_secret_every_request_is_refused(tmp_path) -> None:
    a = RequestAuth(load_ingest_secrets(load_policy(None), {}, None), clock=lambda: NOW)
    for secret in ("", "anything"):
        assert isinstance(a.verify(str(NOW), BODY, sign(secret, NOW, BODY)), Refused)
    assert isinstance(a.verify(str(NOW), BODY, "v1="), Refused)


def test_shops_without_a_secret_are_never_covered(tmp_path) -> None:
    signed = verify(auth(tmp_path, fallback=None), "own-secret")
    assert not isinstance(signed, Refused)
    assert not signed.covers("shop-a")


def test_a_named_variable_that_is_unset_stops_start_up(tmp_path) -> None:
    with pytest.raises(IngestConfigError) as info:
        load_ingest_secrets(policy(tmp_path), {"SHOP_OWN_SECRET": "x"}, "global")
    assert str(info.value).endswith(
        "shops.shop-twin.ingest.secret_env: environment variable SHOP_TWIN_SECRET is not set")


def test_the_gateway_does_not_start_when_a_named_secret_is_missing(tmp_path) -> None:
    from services.core.settings import Settings
    from services.gateway.app import create_app

    path = tmp_path / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    with pytest.raises(IngestConfigError, match="shops.shop-own.ingest.secret_env"):
        create_app(Settings(policy_file=path, ingest_secret="x"), environ={})


def test_a_secret_being_rotated_accepts_the_old_and_the_new_for_its_shops_only(tmp_path) -> None:
    """`SHOP_OWN_SECRET=new,old` while integrators move to the new secret: a request
    signed with either covers the shop; neither covers a shop with another secret."""
    rotating = auth(tmp_path, environ={"SHOP_OWN_SECRET": "own-new, own-old",
                                       "SHOP_TWIN_SECRET": "twin-secret"})
    for secret in ("own-new", "own-old"):
        signed = verify(rotating, secret)
        assert not isinstance(signed, Refused), secret
        assert signed.covers("shop-own") and not signed.covers("shop-twin")
        assert not signed.covers("shop-a")
    assert isinstance(verify(rotating, "own-new, own-old"), Refused), "the list is no secret"
    global_rotating = auth(tmp_path, fallback="global-new,global-old")
    assert verify(global_rotating, "global-old").covers("shop-listed")


def test_a_variable_that_holds_only_commas_is_no_secret(tmp_path) -> None:
    with pytest.raises(IngestConfigError, match="SHOP_OWN_SECRET"):
        auth(tmp_path, environ={"SHOP_OWN_SECRET": " , ", "SHOP_TWIN_SECRET": "x"})
