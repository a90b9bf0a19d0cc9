"""A request body as events: what is one event, and each event's verdict, the same as
the router would give it on kefu.inbound (reason and all)."""

from __future__ import annotations

import orjson
import pytest

from contracts import example
from services.gateway.events import (
    JSON,
    NDJSON,
    BodyError,
    check_events,
    media_type,
    split_events,
)
from tests.support.faults import expect_router

LIMIT = 4096


def raw(kind: str = "buyer.message", /, **fields) -> bytes:
    return orjson.dumps(example(kind, **fields))


@pytest.mark.parametrize(("header", "media"), [
    ("application/json", JSON), ("application/json; charset=utf-8", JSON),
    ("Application/X-NDJSON", NDJSON), ("text/plain", None), (None, None), ("", None),
])
def test_media_types(header, media) -> None:
    assert media_type(header) == media


def test_a_json_body_is_one_event_whatever_it_holds() -> None:
    assert split_events(b'{"a": 1}\n{"b": 2}', JSON, 10) == [b'{"a": 1}\n{"b": 2}']


def test_ndjson_lines_skip_blank_ones_and_carriage_returns() -> None:
    body = b'{"a": 1}\r\n\r\n  \n{"b": 2}'
    assert split_events(body, NDJSON, 10) == [b'{"a": 1}', b'{"b": 2}']


def test_ndjson_over_the_batch_limit_is_413_and_empty_is_422() -> None:
    with pytest.raises(BodyError) as over:
        split_events(b"{}\n" * 11, NDJSON, 10)
    assert (over.value.status, over.value.error) == (413, "too_many_events")
    with pytest.raises(BodyError) as empty:
        split_events(b"\n \r\n", NDJSON, 10)
    assert (empty.value.status, empty.value.error) == (422, "no_events")


def test_the_limits_themselves_are_allowed() -> None:
    """A batch of exactly the limit of events, and an event of exactly the limit of
    bytes (as the router allows it), are taken; one more of either is not."""
    assert len(split_events(b"{}\n" * 10, NDJSON, 10)) == 10
    event = example("buyer.message", event_id="e-limit")
    event["payload"]["text"] = ""
    event["payload"]["text"] = "x" * (LIMIT - len(orjson.dumps(event)))
    exact = orjson.dumps(event)
    assert len(exact) == LIMIT
    checked = check_events([exact, exact[:-1] + b" }"], LIMIT)
    assert [c.event_id for c in checked.candidates] == ["e-limit"]
    assert [(o.index, o.reason) for o in checked.outcomes] == [(1, "oversize")]


def test_valid_events_are_keyed_by_the_contract() -> None:
    lines = [raw("buyer.message", event_id="e1", shop_id="s1"),
             raw("agent.status", event_id="e2", shop_id="s2"),
             raw("order.paid", event_id="e3", shop_id="s1")]
    checked = check_events(lines, LIMIT)
    assert not checked.outcomes
    assert [(c.index, c.shop_id, c.event_id) for c in checked.candidates] == [
        (0, "s1", "e1"), (1, "s2", "e2"), (2, "s1", "e3")]
    assert [c.key for c in checked.candidates] == [b"conv-8812", b"agent-lin",
                                                   b"ord-20261122-5531"]
    assert [c.raw for c in checked.candidates] == lines  # passed on as sent
    assert checked.shops == {"s1", "s2"}


def test_rejections_carry_the_reasons_of_the_dead_letter_queue() -> None:
    naive = example("order.paid", occurred_at="2026-11-22T20:16:30")
    missing = example("buyer.message")
    del missing["payload"]["text"]
    lines = [
        b"{not json", b"\xff\xfe", b"[1, 2]", orjson.dumps(naive), orjson.dumps(missing),
        raw("buyer.message", event_type="buyer.shouted"), raw(schema_version=2),
        raw(payload={"text": "x" * LIMIT}),
    ]
    checked = check_events(lines, LIMIT)
    assert not checked.candidates
    reasons = [o.reason for o in checked.outcomes]
    assert reasons == ["invalid_json", "invalid_encoding", "invalid_json", "naive_timestamp",
                       "schema_violation", "unknown_event_type",
                       "unsupported_schema_version", "oversize"]
    assert all(reason in expect_router(line, LIMIT, set()).reasons
               for reason, line in zip(reasons, lines, strict=True))
    assert "payload.text" in checked.outcomes[4].detail
    assert {o.status for o in checked.outcomes} == {"rejected"}


def test_invalid_events_still_name_their_shop_and_id() -> None:
    missing = example("buyer.message", event_id="e-9", shop_id="shop-x")
    del missing["payload"]["text"]
    checked = check_events([orjson.dumps(missing), b'{"shop_id": 5, "event_id": []}'], LIMIT)
    assert [o.event_id for o in checked.outcomes] == ["e-9", None]
    assert checked.shops == {"shop-x"}


def test_an_event_repeated_in_the_body_is_a_duplicate_of_its_first() -> None:
    same = raw(event_id="e1", shop_id="s1")
    other_shop = raw(event_id="e1", shop_id="s2")
    checked = check_events([same, other_shop, same], LIMIT)
    assert [c.index for c in checked.candidates] == [0, 1]
    (repeat,) = checked.outcomes
    assert (repeat.index, repeat.status, repeat.detail) == (2, "duplicate",
                                                            "the same event as index 0")
