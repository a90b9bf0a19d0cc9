"""Role-service throughput on its own fresh embedded stack (issue #12, "Stream speed").

    python -m benchmarks.roles_bench [--events 50000] [--quick] [--role presale]

Measures, in one run on one broker: the raw aiokafka passthrough of the same records
(the baseline, before and after, averaged), then `kefu run presale` (or aftersale) as
one process and as two processes in one group, facing a backlog: a pre-sale day of 50
shops x 20 agents (benchmarks/roles_workload.py). Prints events/s and the ratio to the
baseline, CPU per event, Redis round trips per batch and cores; asserts nothing.

The service starts, joins and reports /readyz 200; it is frozen (SIGSTOP) while the
backlog is produced, and the clock runs from thawing it (SIGCONT) until its group has
committed the whole backlog (offsets polled every 50 ms), as the baseline runs to its
last commit."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiokafka import TopicPartition
from redis.asyncio import Redis

from benchmarks.common.baseline import RAW_IN, RAW_OUT, Baseline, baseline
from benchmarks.common.kafka_io import (
    HEADERS,
    commit_group_at,
    new_producer,
    track_ends,
    wait_committed,
)
from benchmarks.common.procs import (
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
from benchmarks.common.text import fmt_rate, say
from benchmarks.roles_workload import RoleWorkload, make_role_workload
from contracts import topics
from services.core.embedded import EmbeddedBroker, EmbeddedRedis
from services.core.kafka import create_topics
from services.core.settings import Settings


@dataclass
class RoleRun:
    processes: int
    events_per_s: float
    cpu_us_per_event: float
    seconds: float
    cores: float
    server_cores: float
    round_trips_per_batch: float
    batches: int
    split: list[int]


async def produce(bootstrap: str, records: list[tuple[str, bytes, bytes]],
                  ends: dict[TopicPartition, int]) -> None:
    producer = await new_producer(bootstrap)
    try:
        futures = []
        for topic, key, value in records:
            futures.append(await producer.send(topic, value, key=key, headers=HEADERS))
            if len(futures) >= 5000:
                track_ends(ends, await asyncio.gather(*futures))
                futures = []
        track_ends(ends, await asyncio.gather(*futures))
    finally:
        await producer.stop()


class RoleBench:
    def __init__(self, args, broker: EmbeddedBroker, redis: EmbeddedRedis, workdir: Path):
        self.args, self.broker, self.redis, self.workdir = args, broker, redis, workdir
        self.ends: dict[TopicPartition, int] = {}

    def servers_cpu(self) -> float:
        return sum(cpu_seconds(s.proc.pid) for s in (self.broker, self.redis) if s.proc)

    async def run(self, workload: RoleWorkload, processes: int) -> RoleRun:
        bootstrap, role, n = self.broker.bootstrap, self.args.role, len(workload.records)
        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        redis = Redis.from_url(self.redis.url)
        await redis.flushdb()  # cold: no boards, clocks or dedup marks
        await redis.aclose()
        await commit_group_at(bootstrap, f"{prefix}-{role}", dict(self.ends))
        session_ms = max(10_000, n // 4)
        procs = [start_service(role, self.broker, self.redis, prefix, self.workdir, i,
                               session_ms) for i in range(processes)]
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
                await wait_ready(http, procs, self.args.ready_timeout)
                spy = start_py_spy(procs[0].pid, self.args.py_spy) if (
                    self.args.py_spy and processes == 1) else None
                for p in procs:
                    p.signal(signal.SIGSTOP)
                await produce(bootstrap, workload.records, self.ends)
                cpu0, servers0 = sum(p.cpu_seconds() for p in procs), self.servers_cpu()
                resumed = time.monotonic()
                for p in procs:
                    p.signal(signal.SIGCONT)
                done = await wait_committed(bootstrap, f"{prefix}-{role}", self.ends,
                                            check=lambda: check_alive(procs),
                                            timeout=max(180, n / 100))
                seconds = done - resumed
                if spy is not None:
                    stop_py_spy(spy)
                cpu = sum(p.cpu_seconds() for p in procs) - cpu0
                servers = self.servers_cpu() - servers0
                samples = [await metrics(http, p) for p in procs]
                counts = [int(summed(s, "kefu_events_in_total")) for s in samples]
                if sum(counts) < n:
                    raise RuntimeError(f"only {sum(counts)} of {n} records consumed")
        finally:
            for p in procs:
                p.stop()
        trips = sum(summed(s, "kefu_role_batch_redis_round_trips_sum") for s in samples)
        batches = sum(summed(s, "kefu_role_batch_redis_round_trips_count") for s in samples)
        return RoleRun(processes, n / seconds, cpu / n * 1e6, seconds, cpu / seconds,
                       servers / seconds, trips / max(1, batches), int(batches), counts)


def report(args, workload: RoleWorkload, base: Baseline, batched: Baseline, one: RoleRun,
           two: RoleRun | None, wall: float) -> str:
    n = len(workload.records)
    row = "  {:<36}{:>13}{:>12}   {}".format
    kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(workload.kinds.items()))
    lines = [
        f"kefu {args.role} benchmark: {n:,} records (~{workload.mean_bytes:.0f} B) of "
        f"{args.shops} shops x {args.agents} agents, {args.partitions} partitions",
        f"  {kinds}", "",
        row("", "throughput", "CPU/event", "ratio (target)"),
        row("baseline: raw aiokafka passthrough", fmt_rate(base.events_per_s),
            f"{base.cpu_us_per_event:.0f} us",
            "send() per record; mean of " + " and ".join(map(fmt_rate, base.runs))),
        row("  the same, with record batches", fmt_rate(batched.events_per_s),
            f"{batched.cpu_us_per_event:.0f} us", "send_records, as kefu publishes"),
        row(f"{args.role}, 1 process", fmt_rate(one.events_per_s),
            f"{one.cpu_us_per_event:.0f} us",
            f"{one.events_per_s / base.events_per_s:.3f}x baseline (>= 0.25)"),
    ]
    if two is not None:
        lines.append(row(f"{args.role}, 2 processes, one group", fmt_rate(two.events_per_s),
                         f"{two.cpu_us_per_event:.0f} us",
                         f"{two.events_per_s / one.events_per_s:.2f}x 1 process (>= 1.6 where "
                         "the machine has the cores)"))
    lines.append("")
    for r in [one] + ([two] if two is not None else []):
        note = (f"  {r.processes}p: {r.seconds:.2f}s, {r.batches} batches, "
                f"{r.round_trips_per_batch:.2f} Redis round trips per batch, {r.cores:.2f} "
                f"cores (+ broker and Redis {r.server_cores:.2f})")
        if r.processes > 1:
            note += ", split " + "/".join(f"{c / max(1, sum(r.split)):.0%}" for c in r.split)
        lines.append(note)
    lines.append(f"  baselines used {base.cores:.2f} and {batched.cores:.2f} cores; total "
                 f"{wall:.0f}s")
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> int:
    wall = time.monotonic()
    with embedded_stack("kefu-roles-bench-") as (broker, redis, workdir):
        settings = Settings(kafka_bootstrap=broker.bootstrap, redis_url=redis.url)
        await create_topics(settings, [*topics.ALL_TOPICS, RAW_IN, RAW_OUT], args.partitions)
        workload = make_role_workload(args.events, shops=args.shops, agents=args.agents,
                                      seed=42, run=uuid.uuid4().hex[:6], role=args.role)
        n = len(workload.records)
        say(f"{n:,} records; baseline: preloading {RAW_IN} ...")
        await produce(broker.bootstrap, [(RAW_IN, k, v) for _, k, v in workload.records], {})
        bench = RoleBench(args, broker, redis, workdir)
        base = await baseline(settings, n, 500, bench.servers_cpu)
        batched = await baseline(settings, n, 500, bench.servers_cpu, batched=True)
        say(f"baselines {fmt_rate(base.events_per_s)}, {fmt_rate(batched.events_per_s)}; "
            f"{args.role}, 1 process ...")
        one = await bench.run(workload, 1)
        say(f"{fmt_rate(one.events_per_s)}; baseline again ...")
        base = base.averaged_with(await baseline(settings, n, 500, bench.servers_cpu))
        two = None
        if not args.skip_two:
            say(f"{args.role}, 2 processes ...")
            two = await bench.run(workload, 2)
        print(report(args, workload, base, batched, one, two, time.monotonic() - wall),
              flush=True)
        return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.roles_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=None, help="records (default 50000)")
    parser.add_argument("--quick", action="store_true", help="10k records")
    parser.add_argument("--role", choices=("presale", "aftersale"), default="presale")
    parser.add_argument("--shops", type=int, default=50)
    parser.add_argument("--agents", type=int, default=20, help="agents per shop")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--ready-timeout", type=float, default=120)
    parser.add_argument("--skip-two", action="store_true", help="skip the 2-process run")
    parser.add_argument("--py-spy", metavar="OUT", default=None,
                        help="profile the 1-process run with py-spy (installed separately); "
                             "OUT.svg flamegraph, OUT.json speedscope, OUT.txt collapsed stacks")
    args = parser.parse_args(argv)
    if args.events is None:
        args.events = 10_000 if args.quick else 50_000
    return args


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
