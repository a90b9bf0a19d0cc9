"""Notifier throughput on a burst: one shop ships N orders at once (a warehouse run on a
busy day), and every buyer's "shipped" notice goes by signed webhook to the shop's
receiver, which verifies each request and answers after `--receiver-ms`.

The baseline, measured in the same run against the same receiver: the same notices
posted straight from one aiohttp client, signed, with as many requests at once as the
notifier allows them (KEFU_NOTIFIER_CONCURRENCY_PER_SHOP for each shop, at most
KEFU_NOTIFIER_CONCURRENCY_PER_RECEIVER in all). Its rate is what the receiver can take at
that concurrency; the notifier's ratio to it says how much of
that a shop's burst gets. kefu's rate is taken from its first delivery to its last, so
the service's start-up is not counted.

    python -m benchmarks.notifier_bench                    # 2,000 notices, 1 shop, 10 ms
    python -m benchmarks.notifier_bench --shops 20 --notices 4000
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import aiohttp
import orjson
from aiohttp import web

from benchmarks.common.kafka_io import produce_all
from benchmarks.common.procs import embedded_stack, start_service, wait_ready
from benchmarks.common.text import say
from contracts import example, topics
from contracts.topics import ALL_TOPICS
from services.core.embedded import free_port
from services.core.kafka import create_topics
from services.core.settings import Settings
from services.notifier.lanes import Limits
from services.notifier.signing import ID_HEADER, signed_headers, verify_request

SECRET_ENV, SECRET = "KEFU_BENCH_HOOK_SECRET", "bench-hook-secret"


class Receiver:
    """A shop's webhook endpoint: verifies the signature, waits `delay`, answers 200,
    and notes when each notification id first arrived."""

    def __init__(self, delay: float) -> None:
        self.delay, self.port = delay, free_port()
        self.first_seen: dict[str, float] = {}
        self.rejected = 0
        self.complete = asyncio.Event()
        self.expected = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not verify_request(SECRET, request.headers, body):
            self.rejected += 1
            return web.Response(status=401)
        await asyncio.sleep(self.delay)
        self.first_seen.setdefault(request.headers[ID_HEADER], time.perf_counter())
        if len(self.first_seen) >= self.expected:
            self.complete.set()
        return web.Response(status=200)

    def expect(self, count: int) -> None:
        self.first_seen, self.expected = {}, count
        self.complete.clear()

    def span(self) -> float:
        times = sorted(self.first_seen.values())
        return times[-1] - times[0]

    async def start(self) -> web.AppRunner:
        app = web.Application()
        app.router.add_post("/hook/{shop}", self.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        return runner


async def direct(receiver: Receiver, count: int, concurrency: int) -> float:
    """Notices per second posted straight to the receiver, signed, `concurrency` at once."""
    receiver.expect(count)
    gate = asyncio.Semaphore(concurrency)
    url = f"http://127.0.0.1:{receiver.port}/hook/direct"
    async with aiohttp.ClientSession() as session:

        async def post(i: int) -> None:
            body = orjson.dumps({"notification_id": f"direct-{i}", "kind": "shipped"})
            async with gate, session.post(url, data=body, headers=signed_headers(
                    SECRET, body, f"direct-{i}", 1)) as resp:
                resp.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(post(i) for i in range(count)))
        return count / (time.perf_counter() - started)


def policy_text(shops: list[str], port: int) -> str:
    lines = ["shops:", "  default:", "    notify:", "      quiet_hours: []"]
    for shop in shops:
        lines += [f"  {shop}:", "    notify:",
                  "      channels: {buyer: webhook, supervisor: webhook}",
                  f'      webhook: {{url: "http://127.0.0.1:{port}/hook/{shop}", '
                  f"secret_env: {SECRET_ENV}, allow_http: true}}"]
    return "\n".join(lines) + "\n"


def shipped_events(shops: list[str], count: int) -> list[tuple[bytes, bytes]]:
    records = []
    for i in range(count):
        shop, order_id = shops[i % len(shops)], f"o-{i}"
        event = example("order.shipped", event_id=f"bench-ship-{i}", shop_id=shop,
                        payload={"order_id": order_id, "carrier": "SF",
                                 "tracking_no": f"SF{i:010d}"})
        records.append((order_id.encode(), orjson.dumps(event)))
    return records


async def run(args: argparse.Namespace) -> int:
    limits = Limits()  # the notifier's defaults: a shop, and a receiver, at once
    concurrency = min(limits.per_receiver, limits.per_shop * args.shops)
    receiver = Receiver(args.receiver_ms / 1000)
    site = await receiver.start()
    try:
        with embedded_stack("kefu-notifier-bench-") as (broker, redis, workdir):
            settings = Settings(kafka_bootstrap=broker.bootstrap, redis_url=redis.url)
            await create_topics(settings, list(ALL_TOPICS), partitions=args.partitions)
            say(f"direct posts: {args.notices:,} signed notices, {concurrency} at once ...")
            base = await direct(receiver, args.notices, concurrency)
            shops = [f"shop-{i}" for i in range(args.shops)]
            policy = Path(workdir) / "policy.yaml"
            policy.write_text(policy_text(shops, receiver.port), encoding="utf-8")
            await produce_all(broker.bootstrap, topics.ORDERS,
                              shipped_events(shops, args.notices))
            receiver.expect(args.notices)
            say(f"kefu run notifier: {args.notices:,} order.shipped of {args.shops} shop(s) "
                "already in kefu.orders ...")
            notifier = start_service("notifier", broker, redis, "bench", workdir, 0, 10_000,
                                     KEFU_POLICY_FILE=str(policy), **{SECRET_ENV: SECRET})
            try:
                async with aiohttp.ClientSession() as session:
                    await wait_ready(session, [notifier], timeout=args.ready_timeout)
                cpu_start = notifier.cpu_seconds()
                await asyncio.wait_for(receiver.complete.wait(), timeout=args.timeout)
                cpu = notifier.cpu_seconds() - cpu_start
            finally:
                notifier.stop()
    finally:
        await site.cleanup()
    rate = (args.notices - 1) / receiver.span()
    print(f"kefu notifier benchmark: {args.notices:,} shipped notices of {args.shops} shop(s), "
          f"receiver answers after {args.receiver_ms:g} ms, {args.partitions} partitions\n")
    print(f"  {'':<40}{'throughput':>14}{'ratio':>9}")
    print(f"  {'direct signed posts, ' + str(concurrency) + ' at once':<40}"
          f"{base:>10,.0f} n/s")
    print(f"  {'kefu notifier, 1 process':<40}{rate:>10,.0f} n/s{rate / base:>8.2f}x")
    print(f"\n  notifier CPU {cpu * 1e6 / args.notices:,.0f} us per notice (from ready to the "
          f"last delivery); requests refused by the receiver: {receiver.rejected}")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.notifier_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--notices", type=int, default=2000)
    parser.add_argument("--shops", type=int, default=1)
    parser.add_argument("--receiver-ms", type=float, default=10.0,
                        help="how long the receiver takes to answer (default 10)")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--ready-timeout", type=float, default=120)
    parser.add_argument("--timeout", type=float, default=600,
                        help="give up when not every notice arrived within this (s)")
    args = parser.parse_args(argv)
    if args.notices < 2 or args.shops < 1 or args.shops > args.notices:
        parser.error("--notices must be at least 2, and --shops between 1 and --notices")
    return args


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
