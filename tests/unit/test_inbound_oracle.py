"""The router's oracle (tests/support/inbound_oracle.py) against the wire contract, case
by case, and the contract's parser against the oracle: every case's reason is one the
oracle allows, every valid case parses, with the contract's key."""

from __future__ import annotations

import json

import pytest

from contracts import EXAMPLES, InvalidEvent, event_key, example, parse_inbound_document
from tests.support.inbound_oracle import judge

LIMIT = 64 * 1024


def doc(kind: str = "buyer.message", **changes) -> dict:
    event = example(kind, event_id="e-1", shop_id="shop-1")
    for path, value in changes.items():
        target, *rest = path.split("__")
        if rest:
            event[target][rest[0]] = value
        else:
            event[target] = value
    return event


def raw(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def without(kind: str, field: str) -> bytes:
    event = doc(kind)
    event["payload"].pop(field)
    return raw(event)


CASES = {
    "not UTF-8": (b'{"event_id": "\xff"}', {"invalid_encoding"}),
    "an array": (b"[1, 2]", {"invalid_json"}),
    "a byte-order mark": (b"\xef\xbb\xbf" + raw(doc()), {"invalid_json"}),
    "NaN": (raw(doc())[:-1] + b', "x": NaN}', {"invalid_json"}),
    "beyond a double": (raw(doc())[:-1] + b', "x": 1e400}', {"invalid_json"}),
    "an unpaired surrogate": (raw(doc())[:-1] + b', "x": "\\ud800"}', {"invalid_json"}),
    "content after the object": (raw(doc()) + b"{}", {"invalid_json"}),
    "oversize": (raw(doc(payload__text="中" * LIMIT)), {"oversize"}),
    "version 2": (raw(doc(schema_version=2)), {"unsupported_schema_version"}),
    "version as text": (raw(doc(schema_version="1")), {"schema_violation"}),
    "version 1.0": (raw(doc(schema_version=1.0)), {"schema_violation"}),
    "version true": (raw(doc(schema_version=True)), {"schema_violation"}),
    "unknown type": (raw(doc(event_type="buyer.sneezed")), {"unknown_event_type"}),
    "type in capitals": (raw(doc(event_type="BUYER.MESSAGE")), {"unknown_event_type"}),
    "no type": (raw({k: v for k, v in doc().items() if k != "event_type"}),
                {"schema_violation"}),
    "naive time": (raw(doc(occurred_at="2026-11-22T09:30:00")), {"naive_timestamp"}),
    "a date only": (raw(doc(occurred_at="2026-11-22")), {"schema_violation"}),
    "offset +25:00": (raw(doc(occurred_at="2026-11-22T09:30:00+25:00")), {"schema_violation"}),
    "year 1": (raw(doc(occurred_at="0001-01-01T00:00:00+14:00")), {"schema_violation"}),
    "naive and no shop": (raw({**doc(occurred_at="2026-11-22T09:30:00"), "shop_id": ""}),
                          {"schema_violation", "naive_timestamp"}),
    "event_id of 129": (raw(doc(event_id="x" * 129)), {"schema_violation"}),
    "shop_id of 65": (raw(doc(shop_id="x" * 65)), {"schema_violation"}),
    "platform in capitals": (raw(doc(platform="TAOBAO")), {"schema_violation"}),
    "payload a list": (raw(doc(payload=[])), {"schema_violation"}),
    "no text": (without("buyer.message", "text"), {"schema_violation"}),
    "attachments null": (raw(doc(payload__attachments=None)), {"schema_violation"}),
    "rating 3.0": (raw(doc("review.posted", payload__rating=3.0)), {"schema_violation"}),
    "rating 6": (raw(doc("review.posted", payload__rating=6)), {"schema_violation"}),
    "rating as text": (raw(doc("review.posted", payload__rating="3")), {"schema_violation"}),
    "no roles": (raw(doc("agent.status", payload__roles=[])), {"schema_violation"}),
    "a negative amount": (raw(doc("order.paid", payload__amount=-1)), {"schema_violation"}),
    "status in capitals": (raw(doc("logistics.update", payload__status="IN_TRANSIT")),
                           {"schema_violation"}),
    "no new_ship_by": (without("order.delayed", "new_ship_by"), {"schema_violation"}),
}
VALID = {
    **{f"the example of {kind}": raw(doc(kind)) for kind in sorted(EXAMPLES)},
    "time in UTC with z": raw(doc(occurred_at="2026-11-22t01:30:00.123456789z")),
    "offset -00:00": raw(doc(occurred_at="2026-11-22T09:30:00-00:00")),
    "a repeated name": raw(doc())[:-1] + b', "event_id": "e-2"}',
    "an integer beyond 64 bits, extra": raw(doc())[:-1] + b', "x": 123456789012345678901234567890}',
    "extra fields anywhere": raw(doc(x_any={"deep": [1, None]}, payload__x_键="值")),
    "optional fields null": raw(doc("order.paid", payload__amount=None,
                                    payload__promised_ship_by=None, trace_id=None)),
    "an integer amount": raw(doc("order.paid", payload__amount=289)),
    "aftersale.updated without order": raw(doc("aftersale.updated", payload__order_id=None)),
}


@pytest.mark.parametrize(("record", "reasons"), CASES.values(), ids=CASES.keys())
def test_the_oracle_gives_the_contracts_reasons_and_the_parser_one_of_them(record, reasons):
    assert judge(record, LIMIT).reasons == reasons
    if len(record) <= LIMIT:
        with pytest.raises(InvalidEvent) as bad:
            parse_inbound_document(record)
        assert str(bad.value.reason) in reasons


@pytest.mark.parametrize("record", VALID.values(), ids=VALID.keys())
def test_the_oracle_and_the_parser_take_a_valid_event_with_the_contracts_key(record):
    verdict = judge(record, LIMIT)
    assert verdict.reasons == frozenset()
    event, data = parse_inbound_document(record)
    assert verdict.key == event_key(event) and verdict.doc == data
