"""One realistic valid envelope per inbound event type (a shop on Taobao, Beijing time).

Used by the tests, as `examples` in the JSON Schemas, and by the demo.
"""

from __future__ import annotations

import copy
from typing import Any

from .enums import EventType


def _envelope(event_type: EventType, n: int, at: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": f"evt-20261122-{n:04d}",
        "event_type": event_type.value,
        "schema_version": 1,
        "occurred_at": f"2026-11-22T{at}+08:00",
        "shop_id": "shop-demo",
        "platform": "taobao",
        "payload": payload,
        "trace_id": f"trace-{n:04d}",
    }


_CONV = {"conversation_id": "conv-8812"}
_ORDER = {"order_id": "ord-20261122-5531"}
_BUYER = {"buyer_id": "buyer-tb-xiaomei"}
_ITEMS = [{"sku": "sweater-gray-M", "name": "羊毛针织开衫 灰色 M", "quantity": 1, "price": 289.0}]

EXAMPLES: dict[EventType, dict[str, Any]] = {
    EventType(e["event_type"]): e
    for e in (
        _envelope(EventType.BUYER_MESSAGE, 1, "09:30:00", {
            **_CONV, **_BUYER, "message_id": "msg-1001", **_ORDER,
            "text": "你好，我的快递三天没动了，什么时候能到？",
            "attachments": [{"type": "image", "url": "https://img.example.cn/a/1001.jpg"}],
        }),
        _envelope(EventType.AGENT_MESSAGE, 2, "09:31:10", {
            **_CONV, "agent_id": "agent-lin", "message_id": "msg-1002",
            "text": "亲，您好！我马上帮您查询物流哦～",
        }),
        _envelope(EventType.AGENT_STATUS, 3, "08:00:00", {
            "agent_id": "agent-lin", "roles": ["presale", "aftersale"], "status": "online",
            "max_concurrent": 6,
        }),
        _envelope(EventType.CONVERSATION_CLOSED, 4, "09:45:00", {
            **_CONV, "closed_by": "agent-lin",
        }),
        _envelope(EventType.ORDER_CREATED, 5, "20:15:00", {
            **_ORDER, **_BUYER, "items": _ITEMS, "amount": 289.0,
        }),
        _envelope(EventType.ORDER_PAID, 6, "20:16:30", {
            **_ORDER, **_BUYER, "items": _ITEMS, "amount": 289.0,
            "promised_ship_by": "2026-11-24T20:16:30+08:00",
        }),
        _envelope(EventType.ORDER_CHANGED, 7, "21:02:00", {
            **_ORDER, "change": "address", "awaiting_buyer_confirmation": False,
        }),
        _envelope(EventType.ORDER_SHIPPED, 8, "14:20:00", {
            **_ORDER, "carrier": "中通快递", "tracking_no": "ZT7300012345678",
        }),
        _envelope(EventType.ORDER_DELAYED, 9, "10:00:00", {
            **_ORDER, "reason": "灰色M码缺货，预计补货后发出",
            "new_ship_by": "2026-11-26T18:00:00+08:00",
        }),
        _envelope(EventType.ORDER_CANCELLED, 10, "11:05:00", {**_ORDER, "reason": "买家拍错了"}),
        _envelope(EventType.LOGISTICS_UPDATE, 11, "07:42:00", {
            **_ORDER, "tracking_no": "ZT7300012345678", "status": "in_transit",
            "description": "快件已到达【杭州转运中心】", "location": "浙江省杭州市",
        }),
        _envelope(EventType.AFTERSALE_REQUESTED, 12, "16:30:00", {
            "case_id": "case-77120", **_ORDER, **_BUYER, "kind": "return_refund",
            "reason": "衣服起球，质量问题", "amount": 289.0,
            "respond_by": "2026-11-24T16:30:00+08:00",
        }),
        _envelope(EventType.AFTERSALE_UPDATED, 13, "18:05:00", {
            "case_id": "case-77120", **_ORDER, "status": "agreed",
        }),
        _envelope(EventType.REVIEW_POSTED, 14, "19:40:00", {
            **_ORDER, **_BUYER, "rating": 2, "text": "质量一般，洗了一次就起球了",
        }),
        _envelope(EventType.ESCALATION_ACKNOWLEDGED, 15, "09:34:20", {
            "escalation_id": "2b1f0c7e-5a51-5d0e-9a43-7f0b5c1d2e3f",
            "subject": {"kind": "conversation", "id": _CONV["conversation_id"]},
            "role": "aftersale", "by": "supervisor-wu", "note": "我来跟进",
        }),
        _envelope(EventType.CONVERSATION_REASSIGNED, 16, "09:34:40", {
            **_CONV, "role": "aftersale", "to_agent_id": "agent-zhou", "by": "supervisor-wu",
            "reason": "agent-lin 忙不过来",
        }),
        _envelope(EventType.REPLY_SCRIPT_PUBLISHED, 17, "08:30:00", {
            "script_id": "script-double11-presale", "intent": "urge_shipment",
            "locale": "zh-CN", "text": "亲，双十一订单将在48小时内按付款顺序发出，请耐心等待哦～",
            "by": "supervisor-wu", "retired": False,
        }),
    )
}


def example(event_type: EventType | str, /, **overrides: Any) -> dict[str, Any]:
    """A fresh deep copy of the example envelope of `event_type`.

    Keyword arguments replace envelope fields, except `payload=`, whose dict is merged
    into the example payload. Delete keys from the result to make a field missing.
    """
    event = copy.deepcopy(EXAMPLES[EventType(event_type)])
    payload = overrides.pop("payload", None)
    event.update(copy.deepcopy(overrides))
    if isinstance(payload, dict):
        event["payload"].update(copy.deepcopy(payload))
    elif payload is not None:
        event["payload"] = payload
    return event
