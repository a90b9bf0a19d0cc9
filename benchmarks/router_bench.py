"""Router throughput benchmark on its own fresh embedded stack (docs/architecture.md, "Throughput").

    python -m benchmarks.router_bench [--events 50000] [--quick] [--partitions 4]

Measures, in one run on one broker: a raw aiokafka consume->produce passthrough (the
baseline), `kefu run router` as one process and as two processes in one consumer group
(events routed per second), the routing latency under a paced load, and the peak RSS of
every router process. Prints a table and exits 0: no assertions, this is for reading.

How the router runs are timed: the router processes start, join their group and report
/readyz 200; then they are frozen (SIGSTOP), the events are produced into kefu.inbound,
and the clock starts when they are thawed (SIGCONT). So group joins and rebalances are
never timed, the router never competes for CPU with the producer, and it faces a
preloaded backlog just like the baseline does. The clock stops at the broker timestamp
(CreateTime, set by the router's producer) of the last output record.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from redis.asyncio import Redis

from benchmarks.common.baseline import RAW_IN, RAW_OUT, Baseline, baseline
from benchmarks.common.kafka_io import (
    HEADERS,
    commit_group_at,
    log_ends,
    new_producer,
    output_span,
    partitions,
    produce_all,
    track_ends,
)
from benchmarks.common.procs import (
    ServiceProc,
    check_alive,
    cpu_seconds,
    embedded_stack,
    metrics,
    start_py_spy,
    start_service,
    stop_py_spy,
    summed,
    wait_ready,
)
from benchmarks.common.text import fmt_rate, fmt_rss, pct, say
from benchmarks.router_workload import EventFactory, Workload, make_workload
from contracts import event_key, parse_inbound, topics
from services.core.embedded import EmbeddedBroker, EmbeddedRedis
from services.core.kafka import create_topics
from services.core.settings import Settings
from services.demo.wire import BEIJING

OUTPUT_TOPICS = (topics.ROLE_PRESALE, topics.ROLE_AFTERSALE, topics.ORDERS)


async def out_counts(session: aiohttp.ClientSession, router: ServiceProc) -> tuple[int, int]:
    """(outputs on role topics + kefu.orders, dead letters) acked so far, from /metrics."""
    found = await metrics(session, router)
    dead = f'topic="{topics.DLQ}"'
    total = summed(found, "kefu_events_out_total")
    letters = total - summed(found, "kefu_events_out_total", without=dead)
    return int(total - letters), int(letters)


@dataclass
class RouterRun:
    processes: int
    events_per_s: float
    cpu_us_per_event: float
    join_s: float
    frozen_s: float
    seconds: float
    split: list[int]
    dead_letters: int
    cores: float = 0.0
    server_cores: float = 0.0
    peak_rss_mb: list[float | None] = field(default_factory=list)
    latency: dict[str, float] | None = None


class Bench:
    def __init__(self, args: argparse.Namespace, broker: EmbeddedBroker, redis: EmbeddedRedis,
                 workdir: Path) -> None:
        self.args, self.broker, self.redis, self.workdir = args, broker, redis, workdir
        self.inbound_ends: dict[TopicPartition, int] = {}
        self.out_tps = partitions(OUTPUT_TOPICS, args.partitions)

    def servers_cpu(self) -> float:
        return sum(cpu_seconds(s.proc.pid) for s in (self.broker, self.redis) if s.proc)

    async def router_run(self, workload: Workload, processes: int, *,
                         latency: bool = False) -> RouterRun:
        """Start `processes` routers in a fresh group (at the current end of kefu.inbound)
        on an empty Redis, wait until all are ready, freeze them, produce the workload,
        thaw them and time until the last output. Then, optionally, the latency run."""
        bootstrap, n = self.broker.bootstrap, len(workload.records)
        group_prefix = f"bench-{uuid.uuid4().hex[:8]}"
        redis = Redis.from_url(self.redis.url)
        await redis.flushdb()  # every run starts with cold context and no dedup keys
        await redis.aclose()
        await commit_group_at(bootstrap, f"{group_prefix}-router", dict(self.inbound_ends))
        # The routers stay frozen while the backlog is produced (~15k ev/s here): their
        # session must outlast that, or the run would include a rebalance.
        session_ms = max(10_000, n // 5)
        routers = [start_service("router", self.broker, self.redis, group_prefix, self.workdir,
                                 i, session_ms) for i in range(processes)]
        spy = None
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
                join_s = await wait_ready(session, routers, self.args.ready_timeout)
                if self.args.py_spy and processes == 1:
                    spy = start_py_spy(routers[0].pid, self.args.py_spy)
                frozen = time.monotonic()
                for r in routers:
                    r.signal(signal.SIGSTOP)
                await produce_all(bootstrap, topics.INBOUND, workload.records, self.inbound_ends)
                before = await log_ends(bootstrap, self.out_tps)
                cpu_before = sum(r.cpu_seconds() for r in routers)
                servers_before = self.servers_cpu()
                resumed = time.time()
                for r in routers:
                    r.signal(signal.SIGCONT)
                frozen_s = time.monotonic() - frozen
                if frozen_s > session_ms / 1000 * 0.8:
                    say(f"warning: frozen {frozen_s:.1f}s, close to the {session_ms} ms session "
                        "timeout; this run may include a rebalance")
                deadline = time.monotonic() + max(120, n / 200)
                counts = [(0, 0)]
                while sum(map(sum, counts)) < n and time.monotonic() < deadline:
                    await asyncio.sleep(0.25)  # polling /metrics costs the router ~1% CPU
                    check_alive(routers)
                    try:
                        counts = [await out_counts(session, r) for r in routers]
                    except (aiohttp.ClientError, TimeoutError):
                        continue
                cpu = sum(r.cpu_seconds() for r in routers) - cpu_before
                servers = self.servers_cpu() - servers_before
                if spy is not None:
                    stop_py_spy(spy)
                    spy = None
                if sum(map(sum, counts)) < n:
                    raise RuntimeError(f"only {sum(map(sum, counts))} of {n} events routed in time")
                after = await log_ends(bootstrap, self.out_tps)
                _, last = await output_span(bootstrap, before, after)
                seconds = last - resumed
                result = RouterRun(processes, n / seconds, cpu / n * 1e6, join_s, frozen_s,
                                   seconds, [sum(c) for c in counts], sum(d for _, d in counts),
                                   cores=cpu / seconds, server_cores=servers / seconds)
                if latency:
                    # Paced below the router's capacity, so latency is not queueing time.
                    rate = min(self.args.rate, result.events_per_s / 2)
                    say(f"router {fmt_rate(result.events_per_s)}; latency at {rate:,.0f} ev/s")
                    result.latency = await self.latency_run(rate)
                result.peak_rss_mb = [r.peak_rss_mb() for r in routers]
                return result
        finally:
            if spy is not None:
                stop_py_spy(spy)
            for r in routers:
                r.stop()

    async def latency_run(self, rate: float) -> dict[str, float]:
        """Paced load on the running router: send time (in the bench) vs. the time a
        consumer receives the output, and vs. the output's routing.routed_at."""
        bootstrap, duration = self.broker.bootstrap, self.args.latency_seconds
        total = int(rate * duration)
        factory = EventFactory(seed=7, conversations=max(50, total // 8), run=uuid.uuid4().hex[:6])
        sent: dict[str, float] = {}
        received: dict[str, tuple[float, float | None]] = {}
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                    enable_auto_commit=False, fetch_max_wait_ms=20)
        starts = await log_ends(bootstrap, self.out_tps)
        await consumer.start()
        consumer.assign(self.out_tps)
        for tp, offset in starts.items():
            consumer.seek(tp, offset)

        async def collect() -> None:
            deadline = time.monotonic() + duration + 30
            while len(received) < total and time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=50)
                now = time.time()
                for records in batch.values():
                    for r in records:
                        body = orjson.loads(r.value)
                        routed_at = (body.get("routing") or {}).get("routed_at")
                        stamp = datetime.fromisoformat(routed_at).timestamp() if routed_at else None
                        received[body["event_id"]] = (now, stamp)

        collector = asyncio.create_task(collect())
        producer = await new_producer(bootstrap)
        try:
            futures, started = [], time.monotonic()
            while len(sent) < total:
                due = min(total, int((time.monotonic() - started) * rate) + 1)
                while len(sent) < due:
                    event = factory.event(datetime.now(BEIJING))
                    raw = orjson.dumps(event)
                    key = event_key(parse_inbound(raw)).encode()
                    sent[event["event_id"]] = time.time()
                    futures.append(await producer.send(topics.INBOUND, raw, key=key,
                                                       headers=HEADERS))
                await asyncio.sleep(0.005)
            track_ends(self.inbound_ends, await asyncio.gather(*futures))
            achieved = total / (time.monotonic() - started)
            await collector
        finally:
            collector.cancel()
            await producer.stop()
            await consumer.stop()
        e2e = sorted((received[e][0] - t) * 1000 for e, t in sent.items() if e in received)
        to_routed = sorted((received[e][1] - t) * 1000 for e, t in sent.items()
                           if e in received and received[e][1] is not None)
        return {"rate": achieved, "events": total, "received": len(e2e),
                "capped": rate < self.args.rate,
                "p50": pct(e2e, 50), "p99": pct(e2e, 99),
                "routed_p50": pct(to_routed, 50), "routed_p99": pct(to_routed, 99)}


def report(args, workload: Workload, base: Baseline, batched: Baseline, one: RouterRun,
           two: RouterRun | None, wall: float) -> str:
    n = len(workload.records)
    row = "  {:<34}{:>13}{:>12}   {}".format
    lines = [
        f"kefu router benchmark: {n:,} events (~{workload.mean_bytes:.0f} B, "
        f"{workload.kinds.get('buyer.message', 0) / n:.0%} buyer.message), {args.partitions} "
        f"partitions, {os.cpu_count()} CPUs, embedded Tansu + Valkey",
        "",
        row("", "throughput", "CPU/event", "ratio (target)"),
        row("baseline: raw aiokafka passthrough", fmt_rate(base.events_per_s),
            f"{base.cpu_us_per_event:.0f} us", "send() per record"
            + (f"; mean of {' and '.join(map(fmt_rate, base.runs))} (before and after "
               "the 1-process run)" if base.runs else "")),
        row("  the same, with record batches", fmt_rate(batched.events_per_s),
            f"{batched.cpu_us_per_event:.0f} us", "send_records, as kefu publishes"),
        row("router, 1 process", fmt_rate(one.events_per_s), f"{one.cpu_us_per_event:.0f} us",
            f"{one.events_per_s / base.events_per_s:.2f}x baseline (>= 0.3, stretch 0.5); "
            f"{one.events_per_s / batched.events_per_s:.2f}x with record batches"),
    ]
    if two is not None:
        lines.append(row(
            "router, 2 processes, one group", fmt_rate(two.events_per_s),
            f"{two.cpu_us_per_event:.0f} us",
            f"{two.events_per_s / one.events_per_s:.2f}x 1 process (>= 1.6)"))
    lat = one.latency
    if lat is not None:
        lines += [
            "",
            f"  latency, 1 process, {lat['rate']:,.0f} ev/s paced for {args.latency_seconds:g} s "
            f"({lat['received']:,}/{lat['events']:,} outputs seen):",
            f"    send -> output received       p50 {lat['p50']:7.1f} ms   "
            f"p99 {lat['p99']:7.1f} ms",
            f"    send -> routing.routed_at     p50 {lat['routed_p50']:7.1f} ms   "
            f"p99 {lat['routed_p99']:7.1f} ms",
        ]
        if lat["capped"]:
            lines.append(f"    (rate capped at half the 1-process throughput, "
                         f"not {args.rate:,.0f})")
    lines += ["", f"  peak RSS (VmHWM): 1 process {fmt_rss(one.peak_rss_mb)}"
              + (f"; 2 processes {fmt_rss(two.peak_rss_mb)}" if two is not None else "")]
    for r in [one] + ([two] if two is not None else []):
        note = (f"  {r.processes}p: group join {r.join_s:.1f}s (not timed), frozen "
                f"{r.frozen_s:.1f}s while the backlog was produced, routed in {r.seconds:.2f}s "
                f"using {r.cores:.2f} cores (+ broker and Redis {r.server_cores:.2f})")
        if r.processes > 1:
            note += ", split " + "/".join(f"{c / max(1, sum(r.split)):.0%}" for c in r.split)
        if r.dead_letters:
            note += f", {r.dead_letters} dead-lettered (unexpected)"
        lines.append(note)
    lines.append(f"  baselines used {base.cores:.2f} and {batched.cores:.2f} cores (+ broker and "
                 f"Redis {base.server_cores:.2f} and {batched.server_cores:.2f}); CPU/event = "
                 f"the process's CPU time per event, which a busy machine hardly changes; "
                 f"total {wall:.0f}s")
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> int:
    wall = time.monotonic()
    with embedded_stack("kefu-bench-") as (broker, redis, workdir):
        settings = Settings(kafka_bootstrap=broker.bootstrap, redis_url=redis.url)
        await create_topics(settings, [*topics.ALL_TOPICS, RAW_IN, RAW_OUT], args.partitions)
        say(f"generating {args.events:,} events ...")
        workload = make_workload(args.events, seed=42, run=uuid.uuid4().hex[:6])
        say(f"baseline: preloading {RAW_IN}, then passthrough to {RAW_OUT} ...")
        await produce_all(broker.bootstrap, RAW_IN, workload.records)
        bench = Bench(args, broker, redis, workdir)
        base = await baseline(settings, args.events, args.max_records, bench.servers_cpu)
        batched = await baseline(settings, args.events, args.max_records, bench.servers_cpu,
                                 batched=True)
        say(f"baselines {fmt_rate(base.events_per_s)} and {fmt_rate(batched.events_per_s)}; "
            "router, 1 process ...")
        one = await bench.router_run(workload, 1, latency=True)
        say("baseline again (the machine's speed drifts) ...")
        base = base.averaged_with(
            await baseline(settings, args.events, args.max_records, bench.servers_cpu))
        two = None
        if not args.skip_two:
            say("router, 2 processes ...")
            two = await bench.router_run(workload, 2)
        print(report(args, workload, base, batched, one, two, time.monotonic() - wall),
              flush=True)
        return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.router_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=None,
                        help="events per throughput run (default 50000)")
    parser.add_argument("--quick", action="store_true", help="10k events, 3 s latency run")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--max-records", type=int, default=500,
                        help="baseline batch size (the router's default consumer_max_records)")
    parser.add_argument("--rate", type=float, default=2000,
                        help="latency run: events/s (capped at half the 1-process throughput)")
    parser.add_argument("--latency-seconds", type=float, default=None,
                        help="latency run length (default 5, --quick 3)")
    parser.add_argument("--ready-timeout", type=float, default=120)
    parser.add_argument("--skip-two", action="store_true", help="skip the 2-process run")
    parser.add_argument("--py-spy", metavar="OUT", default=None,
                        help="profile the 1-process run with py-spy (installed separately); "
                             "OUT.svg flamegraph, OUT.json speedscope, OUT.txt collapsed stacks")
    args = parser.parse_args(argv)
    if args.events is None:
        args.events = 10_000 if args.quick else 50_000
    if args.latency_seconds is None:
        args.latency_seconds = 3.0 if args.quick else 5.0
    return args


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
