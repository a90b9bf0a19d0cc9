"""The contract's verdict on one `kefu.inbound` record, written from the wire contract
(docs/contract.md's envelope and event tables, the README's rules and DLQ reasons), not
from `contracts/`, whose parser it is there to check.

It reads the bytes with Python's own `json` (the services use orjson) and knows:

- bytes: over `max_event_bytes` is `oversize`; not UTF-8 is `invalid_encoding`;
- JSON (RFC 8259): not one JSON object is `invalid_json`, and so are what RFC 8259
  leaves to implementations and kefu refuses: NaN and Infinity, numbers beyond a
  binary64 double, escapes of unpaired surrogates (not Unicode text), a byte-order mark;
  integers beyond 64 bits are read as doubles, as interoperable JSON is (RFC 8259 §6);
  a repeated name keeps its last value;
- the envelope: `schema_version` a JSON integer (1; higher is
  `unsupported_schema_version`), `event_type` one of the types (else
  `unknown_event_type`), `event_id` 1..128 and `shop_id` 1..64 characters, `platform`
  one of six, `occurred_at` RFC 3339 with an offset (without one: `naive_timestamp`)
  between 1970 and 2200 UTC, `payload` an object, `trace_id` text if given;
- each type's payload: its required fields (bold in the contract), ids as non-empty
  text, enums exactly as written, integers as JSON integers (not true, not 3.0, not
  "3"), amounts as non-negative numbers; optional fields may be absent or null, except
  lists (`attachments[]`, `items[]`) and fields with a stated default (`max_concurrent`,
  default 5; `retired`, default false), which when present are of their type
  (docs/contract.md, "Encoding"); any other field is kept and never judged.

A record with several defects may get the reason of any of them: `reasons` holds every
one that applies (the contract does not rank them), so a test asserts membership."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

OVERSIZE, ENCODING, JSON = "oversize", "invalid_encoding", "invalid_json"
SCHEMA, VERSION, UNKNOWN, NAIVE = ("schema_violation", "unsupported_schema_version",
                                   "unknown_event_type", "naive_timestamp")
PLATFORMS = ("taobao", "tmall", "jd", "douyin", "pdd", "other")
ROLES = ("presale", "aftersale")
CONVERSATION_TYPES = ("buyer.message", "agent.message", "conversation.closed")


class _Refused(ValueError):
    """JSON that RFC 8259 leaves open and kefu refuses."""


# --- field kinds: each returns the defects of a value ("schema" or "naive") -----------
def ident(max_len: int | None = None):
    def check(v):
        ok = isinstance(v, str) and len(v) >= 1 and (max_len is None or len(v) <= max_len)
        return [] if ok else [SCHEMA]
    return check


def text(v):
    return [] if isinstance(v, str) else [SCHEMA]


def text_up_to(max_len: int):
    return lambda v: [] if isinstance(v, str) and 1 <= len(v) <= max_len else [SCHEMA]


def integer(low: int, high: float = math.inf):
    def check(v):
        ok = type(v) is int and low <= v <= high
        return [] if ok else [SCHEMA]
    return check


def money(v):
    ok = type(v) in (int, float) and math.isfinite(v) and v >= 0
    return [] if ok else [SCHEMA]


def boolean(v):
    return [] if type(v) is bool else [SCHEMA]


def one_of(*values: str):
    return lambda v: [] if isinstance(v, str) and v in values else [SCHEMA]


_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
                      r"(?P<offset>[Zz]|[+-](\d{2}):(\d{2}))?")


def time(v):
    """RFC 3339 date-time with an offset, between 1970 and 2200 UTC."""
    match = _RFC3339.fullmatch(v) if isinstance(v, str) else None
    if match is None:
        return [SCHEMA]
    year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
    offset = match["offset"]
    try:
        local = datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError:
        return [SCHEMA]
    if offset is None:
        return [NAIVE]
    sign, hours, minutes = 1, 0, 0
    if offset not in "Zz":
        sign, hours, minutes = (1 if offset[0] == "+" else -1), int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            return [SCHEMA]
    utc = local.replace(tzinfo=UTC).timestamp() - sign * (hours * 3600 + minutes * 60)
    return [] if 0 <= utc < datetime(2200, 1, 1, tzinfo=UTC).timestamp() else [SCHEMA]


def list_of(item, min_len: int = 0):
    def check(v):
        if not isinstance(v, list) or len(v) < min_len:
            return [SCHEMA]
        return [d for element in v for d in item(element)]
    return check


def obj(**fields):
    """An object whose named fields are all optional."""
    def check(v):
        if not isinstance(v, dict):
            return [SCHEMA]
        return [d for name, kind in fields.items() if v.get(name) is not None
                for d in kind(v[name])]
    return check


def required_obj(**fields):
    """An object whose named fields are all required."""
    optional = obj(**fields)

    def check(v):
        if isinstance(v, dict) and any(v.get(name) is None for name in fields):
            return [SCHEMA]
        return optional(v)
    return check


ITEM = obj(item_id=ident(), title=text, sku=text, name=text, quantity=integer(1), price=money)
ATTACHMENT = obj(type=text, url=text)
# (required fields, optional fields) per event type, from the contract's tables.
PAYLOADS: dict[str, tuple[dict, dict]] = {
    "buyer.message": ({"conversation_id": ident(), "buyer_id": ident(), "message_id": ident(),
                       "text": text},
                      {"order_id": ident(), "attachments": list_of(ATTACHMENT),
                       "item_id": ident()}),
    "agent.message": ({"conversation_id": ident(), "agent_id": ident(), "message_id": ident(),
                       "text": text}, {"script_id": ident()}),
    "agent.status": ({"agent_id": ident(), "roles": list_of(one_of(*ROLES), 1),
                      "status": one_of("online", "away", "offline")},
                     {"max_concurrent": integer(1)}),
    "conversation.closed": ({"conversation_id": ident()}, {"closed_by": text}),
    "order.created": ({"order_id": ident(), "buyer_id": ident()},
                      {"items": list_of(ITEM), "amount": money, "promised_ship_by": time}),
    "order.changed": ({"order_id": ident(), "change": one_of("address", "items", "quantity",
                                                             "other")},
                      {"awaiting_buyer_confirmation": boolean}),
    "order.shipped": ({"order_id": ident(), "carrier": ident(), "tracking_no": ident()}, {}),
    "order.delayed": ({"order_id": ident(), "reason": text, "new_ship_by": time}, {}),
    "order.cancelled": ({"order_id": ident()}, {"reason": text}),
    "logistics.update": ({"order_id": ident(), "tracking_no": ident(),
                          "status": one_of("in_transit", "out_for_delivery", "delivered",
                                           "exception", "returned")},
                         {"description": text, "location": text}),
    "aftersale.requested": ({"case_id": ident(), "order_id": ident(), "buyer_id": ident(),
                             "kind": one_of("refund_only", "return_refund", "exchange",
                                            "reissue")},
                            {"reason": text, "amount": money, "respond_by": time,
                             "item_id": ident()}),
    "aftersale.updated": ({"case_id": ident(),
                           "status": one_of("agreed", "rejected", "returned_goods_received",
                                            "refunded", "closed", "platform_intervened")},
                          {"order_id": ident()}),
    "review.posted": ({"order_id": ident(), "buyer_id": ident(), "rating": integer(1, 5)},
                      {"text": text, "item_id": ident()}),
}
INTENTS = ("greeting", "product_inquiry", "bargaining", "order_change", "urge_shipment",
           "logistics_inquiry", "return_refund", "quality_issue", "complaint")
# Supervisors' actions (the console's; contract additions of issue #16).
PAYLOADS.update({
    "escalation.acknowledged": ({"escalation_id": ident(),
                                 "subject": required_obj(
                                     kind=one_of("conversation", "order", "case"), id=ident()),
                                 "role": one_of(*ROLES), "by": ident()}, {"note": text}),
    "conversation.reassigned": ({"conversation_id": ident(), "role": one_of(*ROLES),
                                 "to_agent_id": ident(), "by": ident()}, {"reason": text}),
    "reply_script.published": ({"script_id": ident(), "intent": one_of(*INTENTS),
                                "locale": one_of("zh-CN", "en"), "text": text_up_to(2000),
                                "by": ident()}, {"retired": boolean}),
})
PAYLOADS["order.paid"] = PAYLOADS["order.created"]
ENVELOPE: tuple[dict, dict] = (
    {"event_id": ident(128), "occurred_at": time, "shop_id": ident(64),
     "platform": one_of(*PLATFORMS)},
    {"trace_id": text},
)


NOT_NULL = frozenset({"attachments", "items", "max_concurrent", "retired"})  # lists, defaults


def _defects(doc: dict, spec: tuple[dict, dict]) -> list[str]:
    required, optional = spec
    found = [d for name, kind in required.items()
             for d in (kind(doc[name]) if name in doc else [SCHEMA])]
    return found + [d for name, kind in optional.items()
                    if doc.get(name) is not None or (name in doc and name in NOT_NULL)
                    for d in kind(doc[name])]


# --- reading the bytes -----------------------------------------------------------------
def _refuse(*_args):
    raise _Refused("not a JSON value kefu takes")


def _number(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _Refused("a number beyond a binary64 double")
    return value


def _integer(literal: str) -> int | float:
    value = int(literal)
    return value if -2**63 <= value < 2**64 else _number(literal)


def _unicode(value: Any) -> None:
    if isinstance(value, str):
        value.encode("utf-8")  # raises on an unpaired surrogate
    elif isinstance(value, dict):
        for key, item in value.items():
            _unicode(key)
            _unicode(item)
    elif isinstance(value, list):
        for item in value:
            _unicode(item)


def read_object(raw: bytes) -> tuple[str | None, dict | None]:
    """(a DLQ reason, None) or (None, the JSON object)."""
    try:
        text_ = raw.decode("utf-8")
    except UnicodeDecodeError:
        return ENCODING, None
    try:
        value = json.loads(text_, parse_constant=_refuse, parse_float=_number,
                           parse_int=_integer)
        _unicode(value)
    except (ValueError, UnicodeEncodeError, RecursionError):
        return JSON, None
    return (None, value) if isinstance(value, dict) else (JSON, None)


# --- the verdict -------------------------------------------------------------------------
@dataclass
class Verdict:
    """`reasons`: the DLQ reasons the record may get (empty: it is a valid event).
    For a valid event, `doc` is the object as sent, `event` its contract fields and
    `key` its Kafka key."""

    raw: bytes
    reasons: frozenset[str] = frozenset()
    doc: dict | None = None
    event: Any = None
    key: str | None = None
    duplicate: bool = False
    details: list[str] = field(default_factory=list)


def judge(raw: bytes, max_event_bytes: int) -> Verdict:
    if len(raw) > max_event_bytes:
        return Verdict(raw, frozenset({OVERSIZE}))
    reason, doc = read_object(raw)
    if reason is not None:
        return Verdict(raw, frozenset({reason}))
    reasons: set[str] = set()
    version = doc.get("schema_version")
    if type(version) is int and version > 1:
        reasons.add(VERSION)
    elif version != 1 or type(version) is not int:
        reasons.add(SCHEMA)
    kind = doc.get("event_type")
    defects = _defects(doc, ENVELOPE)
    if not isinstance(kind, str):
        reasons.add(SCHEMA)
    elif kind not in PAYLOADS:
        reasons.add(UNKNOWN)
    elif isinstance(doc.get("payload"), dict):
        defects += _defects(doc["payload"], PAYLOADS[kind])
    else:
        defects.append(SCHEMA)
    if defects:
        reasons.add(SCHEMA if SCHEMA in defects else NAIVE)
        if NAIVE in defects:
            reasons.add(NAIVE)
    if reasons:
        return Verdict(raw, frozenset(reasons), doc)
    payload = SimpleNamespace(**{k: v for k, v in doc["payload"].items() if k.isidentifier()})
    event = SimpleNamespace(event_type=kind, event_id=doc["event_id"], shop_id=doc["shop_id"],
                            payload=payload)
    return Verdict(raw, frozenset(), doc, event, contract_key(kind, doc["payload"]))


def contract_key(kind: str, payload: dict) -> str:
    """The Kafka key the contract gives an inbound event of `kind`."""
    if kind == "agent.status":
        return payload["agent_id"]
    if kind == "escalation.acknowledged":
        return payload["subject"]["id"]
    if kind == "reply_script.published":
        return payload["script_id"]
    if kind in CONVERSATION_TYPES or kind == "conversation.reassigned":
        return payload["conversation_id"]
    if kind == "aftersale.updated":
        return payload.get("order_id") or payload["case_id"]
    return payload["order_id"]
