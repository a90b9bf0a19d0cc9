"""Role-service test support: event builders and a short-duration policy shared by the
pre-sale / after-sale e2e modules, and the entry point of a replica subprocess:

    python -m tests.e2e.role_replica presale [--slow-fire SECONDS] [--slow-write SECONDS]

Settings come from KEFU_* (Settings). `--slow-fire` makes the replica hold each fired
batch that long after its escalations were acked by the broker and before its writes and
timer acks, so a SIGKILL lands while it owns in-flight timers whose escalations already
went out. `--slow-write` does the same to each batch of events: its outputs are
published, its state and timers are written that long after.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from contracts import example, topics
from services.roles.keys import RoleKeys
from tests.conftest import unique
from tests.support.kafka_io import wait_until

POLICY = """
shops:
  default:
    business_hours: {mon-sun: [["00:00", "24:00"]]}
    warn_at: 0.8
    level3_after: 2.0
    sla:
      presale: {first_response: 2s, next_response: 2s}
      aftersale: {first_response: 2s, next_response: 3s}
      ship_by: 2s
      order_change_confirmation: 2s
      aftersale_response: 2s
      logistics_stalled: 2s
"""


def around_the_clock(budget: str) -> str:
    """A policy: pre-sale answers within `budget` around the clock, no quiet hours."""
    return f"""
shops:
  default:
    business_hours: {{mon-sun: [["00:00", "24:00"]]}}
    sla:
      presale: {{first_response: {budget}, next_response: {budget}}}
    notify: {{quiet_hours: []}}
"""


THREE_SECONDS = around_the_clock("3s")
"""Pre-sale answers within 3 s around the clock (warning at 2.4 s, level 3 at 6 s)."""


def replica_env(settings) -> dict[str, str]:
    """The environment of a replica subprocess run with `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    for name, value in settings.model_dump(exclude_none=True).items():
        if isinstance(value, timedelta):
            value = f"PT{value.total_seconds()}S"
        env[f"KEFU_{name.upper()}"] = str(value)
    return env


async def ready(port: int) -> bool:
    """The replica on `port` answers /readyz with 200."""
    try:
        async with aiohttp.ClientSession() as http, http.get(
                f"http://127.0.0.1:{port}/readyz", timeout=aiohttp.ClientTimeout(total=2)) as resp:
            return resp.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


def write_policy(directory: Path, text: str = POLICY) -> Path:
    path = Path(directory) / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def now() -> datetime:
    return datetime.now(UTC)


def iso(at: datetime) -> str:
    return at.isoformat()


def envelope(kind: str, shop: str, payload: dict, *, at: datetime | None = None,
             event_id: str | None = None) -> dict:
    body = example(kind, event_id=event_id or unique("e"), shop_id=shop,
                   occurred_at=iso(at or now()), payload=payload)
    body["payload"] = payload  # exactly what the test says, no example fields merged in
    body["trace_id"] = unique("t")
    return body


def buyer(shop: str, conv: str, *, buyer_id: str = "b1", intent: str = "product_inquiry",
          priority: str = "normal", at: datetime | None = None, event_id: str | None = None):
    body = envelope("buyer.message", shop, {"conversation_id": conv, "buyer_id": buyer_id,
                    "message_id": unique("m"), "text": "在吗"}, at=at, event_id=event_id)
    body["routing"] = {"intent": intent, "role": "presale", "priority": priority,
                       "confidence": 0.9, "reason": "test", "routed_at": iso(now())}
    return body


def agent_says(shop: str, conv: str, agent: str = "a1", at: datetime | None = None) -> dict:
    return envelope("agent.message", shop, {"conversation_id": conv, "agent_id": agent,
                    "message_id": unique("m"), "text": "亲，在的"}, at=at)


def closed(shop: str, conv: str) -> dict:
    return envelope("conversation.closed", shop, {"conversation_id": conv, "closed_by": "a1"})


def status(shop: str, agent: str, state: str, max_concurrent: int = 5,
           roles=("presale", "aftersale")) -> dict:
    return envelope("agent.status", shop, {"agent_id": agent, "roles": list(roles),
                    "status": state, "max_concurrent": max_concurrent})


def order(kind: str, shop: str, order_id: str, at: datetime | None = None, **payload) -> dict:
    base = {"order_id": order_id}
    if kind in ("order.created", "order.paid"):
        base["buyer_id"] = "b1"
    return envelope(kind, shop, {**base, **payload}, at=at)


def key_of(event: dict) -> str:
    p = event["payload"]
    return p.get("conversation_id") or p.get("agent_id") or p.get("order_id") or p["case_id"]


def on_shop(shop: str):
    return lambda body, _record: body.get("shop_id") == shop


def later(seconds: float) -> datetime:
    return now() + timedelta(seconds=seconds)


class Shop:
    """One test's shop: send events, wait for its assignments. Agent presence travels on
    another partition than the conversations, so `online` waits until it was recorded."""

    def __init__(self, kafka, redis) -> None:
        self.kafka, self.redis, self.id = kafka, redis, unique("shop")
        self.seen: set[tuple[int, int]] = set()

    async def send(self, *events: dict) -> None:
        for event in events:
            await self.kafka.send(topics.ROLE_PRESALE, event, key_of(event))

    async def online(self, agent: str, max_concurrent: int = 5, state: str = "online") -> None:
        await self.send(status(self.id, agent, state, max_concurrent))
        key = RoleKeys("presale").agent(self.id, agent)

        async def recorded() -> bool:
            found = await self.redis.hmget(key, "status", "max")
            return found == [state, str(max_concurrent)]

        assert await wait_until(recorded, timeout=30), f"{agent} {state} was not recorded"

    async def assignments(self, count: int, settle: float = 0.0) -> list[tuple[str, str, str]]:
        """The next `count` assignments of the shop as (conversation, agent, reason); the
        order holds per conversation only (partitions interleave)."""
        def new(body, record) -> bool:
            return body["shop_id"] == self.id and (record.partition, record.offset) not in self.seen

        found = await self.kafka.collect(topics.ASSIGNMENTS, new, count=count, timeout=30,
                                         settle=settle)
        self.seen |= {(rec.partition, rec.offset) for _, rec in found}
        return [(b["conversation_id"], b["agent_id"], b["reason"]) for b, _ in found]


def main(argv: list[str]) -> int:
    from services.cli.services import create_app
    from services.core.settings import Settings
    from services.roles.batches import RoleBatches

    holds = {flag: float(argv[argv.index(flag) + 1])
             for flag in ("--slow-fire", "--slow-write") if flag in argv}
    if holds:
        run = RoleBatches.run

        async def slow(self, events=(), timers=(), reads=None):
            outputs, write = await run(self, events, timers, reads)
            delay = holds.get("--slow-fire" if timers else "--slow-write")
            if delay is None:
                return outputs, write

            async def held_then_written() -> None:  # published, not yet written nor acked
                await asyncio.sleep(delay)
                await write()

            return outputs, held_then_written

        RoleBatches.run = slow
    return asyncio.run(create_app(argv[1], Settings()).run())


if __name__ == "__main__":
    sys.exit(main(sys.argv))
