"""The console under load: PAGES open live boards on server-sent events (aiohttp clients,
spread over SHOPS shops) while RATE events/s flow through the router and presale. Every
half second a marker agent comes online in one shop; the update latency is from
producing its `agent.status` to each page of that shop receiving an `agents` panel that
names it. Prints p50/p99 and the console's CPU; asserts nothing.

    python -m benchmarks.console_bench [--pages 200] [--rate 500] [--shops 10]
                                       [--seconds 60] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import orjson
from redis.asyncio import Redis

from benchmarks.common.kafka_io import new_producer
from benchmarks.common.procs import start_service, wait_ready
from benchmarks.common.text import pct, say
from benchmarks.console_pages import PageReader, login
from contracts import INBOUND
from contracts.topics import ALL_TOPICS
from services.console.users import Users
from services.core.embedded import EmbeddedBroker, EmbeddedRedis, free_port
from services.core.kafka import create_topics
from services.core.settings import Settings

POLICY = 'shops: {default: {business_hours: {mon-sun: [["00:00", "24:00"]]}}}\n'
PASSWORD = "bench-password-1"
AGENTS, CAPACITY = 20, 10


def event(kind: str, shop: str, payload: dict) -> bytes:
    return orjson.dumps({"event_id": uuid.uuid4().hex, "event_type": kind, "schema_version": 1,
                         "occurred_at": datetime.now(UTC).isoformat(), "shop_id": shop,
                         "platform": "taobao", "payload": payload})


def status(shop: str, agent: str) -> tuple[bytes, bytes]:
    return agent.encode(), event("agent.status", shop, {
        "agent_id": agent, "roles": ["presale"], "status": "online",
        "max_concurrent": CAPACITY})


def traffic(shops: list[str]):
    """Conversations: a buyer message, the agent's reply, a close, over and over."""
    for n in itertools.count():
        shop, conv = shops[n % len(shops)], f"c{n}"
        yield conv, event("buyer.message", shop, {"conversation_id": conv, "buyer_id": f"b{n}",
                                                  "message_id": f"m{n}", "text": "这件有现货吗"})
        yield conv, event("agent.message", shop, {"conversation_id": conv, "agent_id": "a0",
                                                  "message_id": f"r{n}", "text": "有的亲"})
        yield conv, event("conversation.closed", shop, {"conversation_id": conv})


async def bench(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="console-bench-"))
    policy = work / "policy.yaml"
    policy.write_text(POLICY)
    broker, redis_server = EmbeddedBroker(port=free_port()), EmbeddedRedis(
        port=free_port(), data_dir=work / "redis")
    broker.start()
    redis_server.start()
    services, pages, tasks, stop = [], [], [], asyncio.Event()
    try:
        await create_topics(Settings(kafka_bootstrap=broker.bootstrap), list(ALL_TOPICS),
                            partitions=3)
        env = {"KEFU_POLICY_FILE": str(policy), "KEFU_CONSOLE_SECRET": "bench-secret"}
        services = [start_service(name, broker, redis_server, "bench", work, 0, 10_000, **env)
                    for name in ("router", "presale", "console")]
        async with aiohttp.ClientSession() as http:
            await wait_ready(http, services, timeout=120)
        console = services[2]
        base = f"http://127.0.0.1:{console.port}"
        shops = [f"bench-shop-{i}" for i in range(args.shops)]
        redis = Redis.from_url(redis_server.url)
        for shop in shops:
            await Users(redis).add(f"sup-{shop}", PASSWORD, "supervisor", [shop])
        producer = await new_producer(broker.bootstrap)
        for shop in shops:
            for a in range(AGENTS):
                key, value = status(shop, f"a{a}")
                await producer.send(INBOUND, value, key=key)
        await producer.flush()
        sessions = [await login(base, f"sup-{shop}", PASSWORD) for shop in shops]
        readers: dict[str, list[PageReader]] = {shop: [] for shop in shops}
        for n in range(args.pages):
            shop = shops[n % len(shops)]
            reader = PageReader()
            readers[shop].append(reader)
            pages.append(reader)
            tasks.append(asyncio.create_task(reader.run(
                sessions[n % len(shops)], f"{base}/live/stream?shop={shop}&lang=en", stop)))
        try:
            await asyncio.wait_for(asyncio.gather(*(p.connected.wait() for p in pages)), 60)
        except TimeoutError:
            failed = [t.exception() for t in tasks if t.done() and t.exception()]
            raise RuntimeError(f"{sum(p.connected.is_set() for p in pages)} of {args.pages} "
                               f"pages connected; errors: {failed[:3]}") from None
        say(f"{args.pages} pages open on {args.shops} shops; {args.rate} ev/s for "
            f"{args.seconds} s")
        sent: dict[str, tuple[str, float]] = {}
        flow, started = traffic(shops), time.monotonic()
        cpu_before, wall_before = console.cpu_seconds(), time.monotonic()
        tick, markers = 0, itertools.count()
        while time.monotonic() - started < args.seconds:
            for _ in range(args.rate // 10):
                key, value = next(flow)
                await producer.send(INBOUND, value, key=key.encode())
            if tick % 5 == 0:
                marker, shop = f"mark-{next(markers)}", shops[tick // 5 % len(shops)]
                key, value = status(shop, marker)
                sent[marker] = (shop, time.time())
                await producer.send(INBOUND, value, key=key)
            tick += 1
            await asyncio.sleep(max(0.0, started + tick / 10 - time.monotonic()))
        await producer.flush()
        await asyncio.sleep(2.0)  # the last markers' updates arrive
        cpu = (console.cpu_seconds() - cpu_before) / (time.monotonic() - wall_before)
        latencies, missing = [], 0
        for marker, (shop, at) in sent.items():
            for reader in readers[shop]:
                if marker in reader.seen:
                    latencies.append(reader.seen[marker] - at)
                else:
                    missing += 1
        print(f"console: {args.pages} pages on SSE over {args.shops} shops, {args.rate} ev/s "
              f"for {args.seconds} s, {len(sent)} marker updates x pages = {len(latencies)} "
              f"deliveries ({missing} not seen)")
        print(f"  update latency (produce -> page): p50 {pct(latencies, 50) * 1000:.0f} ms, "
              f"p99 {pct(latencies, 99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
        print(f"  console CPU: {cpu * 100:.0f}% of one core; SSE events received "
              f"{sum(p.events for p in pages):,}; peak RSS {console.peak_rss_mb():.0f} MB")
        await producer.stop()
        await redis.aclose()
        stop.set()
        for session in sessions:
            await session.close()
    finally:
        for task in tasks:
            task.cancel()
        for service in services:
            service.stop()
        broker.stop()
        redis_server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--shops", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--quick", action="store_true", help="40 pages, 200 ev/s, 15 s")
    args = parser.parse_args()
    if args.quick:
        args.pages, args.rate, args.seconds = 40, 200, 15
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
