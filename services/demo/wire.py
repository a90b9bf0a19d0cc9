"""Turning a story's event into a Kafka record at send time: re-stamped with the real
clock (deadlines compressed by the feed's speed), validated, keyed per the contract."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from contracts import event_key, parse_inbound, to_json_bytes

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
DEADLINE_FIELDS = ("promised_ship_by", "new_ship_by", "respond_by")
"""Payload times that are relative to the event; they shrink by the speed like the story."""


def beijing_now() -> datetime:
    return datetime.now(BEIJING)


def stamp(event: dict[str, Any], now: datetime, speed: float, *, valid: bool = True
          ) -> dict[str, Any]:
    """A copy of `event` that happens at real time `now` (aware).

    `occurred_at` becomes `now` (without offset when `valid` is False: the deliberate
    naive timestamp); each deadline keeps its distance to `occurred_at`, divided by `speed`.
    """
    if now.utcoffset() is None:
        raise ValueError("now must have a UTC offset")
    out = copy.deepcopy(event)
    shop_at = datetime.fromisoformat(event["occurred_at"])
    payload = out.get("payload") or {}
    for name in DEADLINE_FIELDS:
        if isinstance(payload.get(name), str):
            distance = datetime.fromisoformat(payload[name]) - shop_at
            payload[name] = (now + distance / speed).isoformat(timespec="milliseconds")
    when = now if valid else now.replace(tzinfo=None)
    out["occurred_at"] = when.isoformat(timespec="milliseconds")
    return out


def encode(event: dict[str, Any]) -> tuple[str, bytes]:
    """(Kafka key, value) of a valid event; raises `contracts.InvalidEvent` if it is not."""
    model = parse_inbound(orjson.dumps(event))
    return event_key(model), to_json_bytes(model)


def encode_raw(event: dict[str, Any]) -> tuple[str, bytes]:
    """(key, value) of an event sent as is, valid or not (the key as the contract would)."""
    payload = event.get("payload") or {}
    if event.get("event_type") == "agent.status":
        key = payload.get("agent_id")
    else:
        key = payload.get("conversation_id") or payload.get("order_id") or payload.get("case_id")
    return str(key or ""), orjson.dumps(event)
