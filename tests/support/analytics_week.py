"""A scripted shop week for the analytics oracle test: what the router, the role
services, the notifier and the DLQ would have put on kefu's topics, with known times.
The expected figures are worked out by hand in tests/e2e/test_analytics_oracle.py.

The week is Monday..Sunday of a past week in Asia/Shanghai. The shop works split shifts
(Mon-Fri 09:00-12:00 and 13:00-18:00, Sat 10:00-16:00, Sun closed) and Wednesday is a
holiday. Agents a1 and a2 are pre-sale, a3 after-sale."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from contracts import topics

SHOP, OTHER = "shop-oracle", "shop-other"
TZ = ZoneInfo("Asia/Shanghai")
DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6, "next-mon": 7,
        "last-fri": -3}
POLICY = """
shops:
  {shop}:
    timezone: Asia/Shanghai
    business_hours:
      mon-fri: [["09:00", "12:00"], ["13:00", "18:00"]]
      sat: [["10:00", "16:00"]]
      sun: []
    holidays: ["{holiday}"]
    sla:
      presale: {{first_response: 3m, next_response: 3m}}
      aftersale: {{first_response: 3m, next_response: 5m}}
      ship_by: 48h
      aftersale_response: 48h
      logistics_stalled: 48h
      order_change_confirmation: 24h
    analytics: {{token_env: KEFU_TEST_ORACLE_TOKEN}}
  {other}:
    analytics: {{token_env: KEFU_TEST_OTHER_TOKEN}}
"""


def past_monday(today: date, weeks_back: int = 3) -> date:
    return today - timedelta(days=today.weekday() + 7 * weeks_back)


@dataclass
class Week:
    monday: date
    records: list[tuple[str, str, dict]] = field(default_factory=list)
    _n: int = 0

    def policy(self) -> str:
        holiday = (self.monday + timedelta(days=2)).isoformat()
        return POLICY.format(shop=SHOP, other=OTHER, holiday=holiday)

    def at(self, day: str, hhmmss: str) -> datetime:
        h, m, s = (int(x) for x in hhmmss.split(":"))
        local = datetime.combine(self.monday + timedelta(days=DAYS[day]), datetime.min.time())
        return local.replace(hour=h, minute=m, second=s, tzinfo=TZ)

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self._n:03d}"

    def _envelope(self, kind: str, when: datetime, payload: dict, shop: str) -> dict:
        return {"event_id": self._id("ev"), "event_type": kind, "schema_version": 1,
                "occurred_at": when.isoformat(), "shop_id": shop, "platform": "tmall",
                "payload": payload}

    def buyer(self, role: str, conv: str, buyer: str, day: str, hhmmss: str, intent: str,
              item: str | None = None, shop: str = SHOP) -> None:
        when = self.at(day, hhmmss)
        payload = {"conversation_id": conv, "buyer_id": buyer, "message_id": self._id("m"),
                   "text": "..."}
        if item:
            payload["item_id"] = item
        body = self._envelope("buyer.message", when, payload, shop)
        body["routing"] = {"intent": intent, "role": role, "priority": "normal",
                           "confidence": 0.9, "reason": "scripted", "routed_at": when.isoformat()}
        self.records.append((topics.role_topic(role), conv, body))

    def agent(self, role: str, conv: str, agent: str, day: str, hhmmss: str) -> None:
        payload = {"conversation_id": conv, "agent_id": agent, "message_id": self._id("m"),
                   "text": "..."}
        self.records.append((topics.role_topic(role), conv,
                             self._envelope("agent.message", self.at(day, hhmmss), payload, SHOP)))

    def close(self, role: str, conv: str, day: str, hhmmss: str) -> None:
        body = self._envelope("conversation.closed", self.at(day, hhmmss),
                              {"conversation_id": conv, "closed_by": "buyer"}, SHOP)
        self.records.append((topics.role_topic(role), conv, body))

    def status(self, agent: str, roles: list[str], day: str, hhmmss: str) -> None:
        body = self._envelope("agent.status", self.at(day, hhmmss),
                              {"agent_id": agent, "roles": roles, "status": "online"}, SHOP)
        for role in roles:  # the router forwards it to every role the agent serves
            self.records.append((topics.role_topic(role), agent, body))

    def order(self, event_type: str, order: str, day: str, hhmmss: str, **payload) -> None:
        body = self._envelope(event_type, self.at(day, hhmmss), {"order_id": order, **payload},
                              SHOP)
        self.records.append((topics.ORDERS, order, body))

    def escalation(self, esc_id: str, kind: str, subject: str, sla: str, state: str,
                   level: int, deadline: datetime | None, fired: datetime,
                   role: str = "presale", **extra) -> None:
        body = {"escalation_id": esc_id, "shop_id": SHOP, "role": role,
                "subject": {"kind": kind, "id": subject}, "sla": sla, "level": level,
                "state": state, "deadline": deadline.isoformat() if deadline else None,
                "fired_at": fired.isoformat(), **extra}
        self.records.append((topics.ESCALATIONS, subject, body))

    def letter(self, service: str, reason: str, source: str, offset: int, raw: str,
               failed: datetime) -> None:
        body = {"reason": reason, "detail": "scripted", "source_topic": source, "partition": 0,
                "offset": offset, "raw": raw, "failed_at": failed.isoformat(),
                "service": service}
        self.records.append((topics.DLQ, "k", body))
