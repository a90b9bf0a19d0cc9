"""Timer firing of the role services on their own fresh embedded stack (issue #12).

    python -m benchmarks.firing_bench [--breaches 10000] [--replicas 2] [--grace 0s]

N conversations get a buyer message each, timed so that their first-response deadlines
fall within one second, a few seconds ahead; `kefu run presale` runs as `--replicas`
processes in one group. The bench reads kefu.escalations and prints, for the breaches
(level 2): how many arrived, how many ids came twice, and the lateness from each
deadline to the escalation on the topic (its broker timestamp), p50/p99/max. It also
prints Redis memory per open clock. It asserts nothing.

The event-time rule fires a deadline only once the partition was read past it plus
`KEFU_SLA_GRACE`: with the default grace of 5 s, every escalation is at least 5 s
late by design, so the engine's own lateness is measured with `--grace 0s` (the
default here) and the grace is printed with the figures."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer
from redis.asyncio import Redis

from benchmarks.common.kafka_io import HEADERS, new_producer
from benchmarks.common.procs import start_service, wait_ready
from benchmarks.common.text import pct, say
from contracts import topics
from services.core.embedded import EmbeddedBroker, EmbeddedRedis, free_port
from services.core.kafka import create_topics
from services.core.settings import Settings

BUDGET_S = 20  # first response SLA: long enough to produce every message before it is due
POLICY = f"""
shops:
  default:
    business_hours: {{mon-sun: [["00:00", "24:00"]]}}
    warn_at: 0.5
    sla: {{presale: {{first_response: {BUDGET_S}s, next_response: {BUDGET_S}s}}}}
"""


def buyer_message(shop: str, conv: str, at: datetime) -> dict:
    return {"event_id": f"e-{conv}", "event_type": "buyer.message", "schema_version": 1,
            "occurred_at": at.isoformat(), "shop_id": shop, "platform": "taobao",
            "payload": {"conversation_id": conv, "buyer_id": f"b-{conv}",
                        "message_id": f"m-{conv}", "text": "在吗"},
            "routing": {"intent": "product_inquiry", "role": "presale", "priority": "normal",
                        "confidence": 0.9, "reason": "bench", "routed_at": at.isoformat()}}


async def collect_breaches(bootstrap: str, shop: str, want: int, timeout: float):
    consumer = AIOKafkaConsumer(topics.ESCALATIONS, bootstrap_servers=bootstrap,
                                group_id=None, auto_offset_reset="earliest",
                                enable_auto_commit=False, fetch_max_wait_ms=20)
    await consumer.start()
    found: list[tuple[str, float, float]] = []  # id, deadline, on the topic at
    try:
        deadline = time.monotonic() + timeout
        seen = set()
        while len(seen) < want and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for r in records:
                    body = orjson.loads(r.value)
                    if body["shop_id"] != shop or (body["state"], body["level"]) != (
                            "breached", 2):
                        continue
                    due = datetime.fromisoformat(body["deadline"]).timestamp()
                    found.append((body["escalation_id"], due, r.timestamp / 1000))
                    seen.add(body["escalation_id"])
        await asyncio.sleep(2)  # repeats arriving late are counted too
        for records in (await consumer.getmany(timeout_ms=500)).values():
            for r in records:
                body = orjson.loads(r.value)
                if body["shop_id"] == shop and (body["state"], body["level"]) == ("breached", 2):
                    found.append((body["escalation_id"], 0.0, 0.0))
    finally:
        await consumer.stop()
    return found


async def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="kefu-firing-bench-"))
    broker = EmbeddedBroker(port=free_port(), log_path=workdir / "broker.log")
    redis = EmbeddedRedis(port=free_port(), data_dir=workdir / "valkey",
                          log_path=workdir / "redis.log")
    broker.start()
    redis.start()
    policy = workdir / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    procs = []
    try:
        settings = Settings(kafka_bootstrap=broker.bootstrap, redis_url=redis.url)
        await create_topics(settings, list(topics.ALL_TOPICS), args.partitions)
        prefix, shop = f"bench-{uuid.uuid4().hex[:8]}", f"shop-{uuid.uuid4().hex[:6]}"
        env = {"KEFU_POLICY_FILE": str(policy), "KEFU_SLA_GRACE": args.grace}
        procs = [start_service("presale", broker, redis, prefix, workdir, i, 10_000, **env)
                 for i in range(args.replicas)]
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            await wait_ready(http, procs, 120)
        client = Redis.from_url(redis.url)
        memory_before = int((await client.info("memory"))["used_memory"])
        sending = datetime.now(UTC)
        first_due = sending + timedelta(seconds=args.lead)
        say(f"{args.breaches:,} buyer messages, due {first_due:%H:%M:%S} within 1 s, "
            f"{args.replicas} replicas, grace {args.grace}")
        producer = await new_producer(broker.bootstrap)
        futures = []
        for i in range(args.breaches):
            at = first_due - timedelta(seconds=BUDGET_S) + timedelta(seconds=i / args.breaches)
            conv = f"c-{i:06d}"
            futures.append(await producer.send(topics.ROLE_PRESALE, orjson.dumps(
                buyer_message(shop, conv, at)), key=conv.encode(), headers=HEADERS))
        await asyncio.gather(*futures)
        await producer.stop()
        produced_at = datetime.now(UTC)
        memory_open = 0
        while datetime.now(UTC) < first_due - timedelta(seconds=1):
            memory_open = int((await client.info("memory"))["used_memory"])
            await asyncio.sleep(0.5)
        await client.aclose()
        found = await collect_breaches(broker.bootstrap, shop, args.breaches, args.lead + 60)
    finally:
        for p in procs:
            p.stop()
        broker.stop()
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    firsts = {eid: (due, at) for eid, due, at in reversed(found) if due}
    late = sorted(max(0.0, at - due) * 1000 for due, at in firsts.values())
    repeats = sum(n - 1 for n in Counter(eid for eid, _, _ in found).values())
    print(f"kefu firing benchmark: {args.breaches:,} first-response breaches due within 1 s, "
          f"{args.replicas} presale replicas, {args.partitions} partitions, grace {args.grace}")
    print(f"  produced in {(produced_at - sending).total_seconds():.1f} s; "
          f"Redis memory per open clock ~{(memory_open - memory_before) / args.breaches:.0f} B "
          "(conversation state, its clock and its timer)")
    print(f"  breaches on the topic: {len(firsts):,} of {args.breaches:,} "
          f"({args.breaches - len(firsts)} lost), {repeats} repeated ids")
    print(f"  lateness, deadline -> escalation on the topic: p50 {pct(late, 50):.0f} ms, "
          f"p99 {pct(late, 99):.0f} ms, max {max(late, default=float('nan')):.0f} ms "
          f"(target p99 <= 1000 ms, on top of the grace)")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.firing_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--breaches", type=int, default=10_000)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--grace", default="0s", help="KEFU_SLA_GRACE of the replicas")
    parser.add_argument("--lead", type=float, default=8.0,
                        help="seconds from sending to the first deadline")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
