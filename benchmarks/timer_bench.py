"""SLA timer engine benchmark on an embedded Valkey (no AOF).

    python -m benchmarks.timer_bench [--timers 1000000] [--rate 5000] [--seconds 20] [--quick]

(a) memory: schedules N open timers (pipelined, batches of 10k) and prints Redis
    `used_memory` per timer.
(b) lateness: with a fresh namespace per configuration, schedules timers falling due at
    `rate` per second over `seconds`, and fires them with a trivial single-key
    ZRANGEBYSCORE+ZREM poller (the baseline, measured in the same run), then one, then
    two TimerRunner replicas, each in its own process and event loop. Lateness is
    fire time minus due time; duplicates and lost timers are counted per configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import pickle
import tempfile
import time
from collections import Counter
from pathlib import Path

from redis.asyncio import Redis

from services.core.embedded import EmbeddedRedis, free_port
from services.core.timers import ClaimedTimer, TimerRunner, TimerStore

LEAD = 1.5  # seconds between scheduling start and the first due time
GRACE = 3.0  # seconds the pollers keep running after the last due time
BATCH = 10_000
BASELINE_KEY = "kefu:bench:baseline:due"


# -- child processes ---------------------------------------------------------------------


def _stop_event_at(stop_at: float) -> asyncio.Event:
    stopping = asyncio.Event()
    asyncio.get_running_loop().call_later(max(0.0, stop_at - time.time()), stopping.set)
    return stopping


async def _replica(url: str, ns: str, shards: int, stop_at: float, owner: str,
                   ready) -> list[tuple[str, float]]:
    redis = Redis.from_url(url)
    await redis.ping()
    records: list[tuple[str, float]] = []

    async def fire(batch: list[ClaimedTimer]) -> None:
        now = time.time()
        records.extend((t.timer_id, now - t.due_at) for t in batch)

    store = TimerStore(redis, ns, shards)
    runner = TimerRunner(store, fire, owner=owner, stopping=_stop_event_at(stop_at))
    ready.set()
    await runner.run()
    await redis.aclose()
    return records


async def _baseline(url: str, stop_at: float, ready, limit: int = 500,
                    idle_sleep: float = 0.002) -> list[tuple[str, float]]:
    """The trivial poller: one ZSET, ZRANGEBYSCORE then ZREM (not atomic, no lease)."""
    redis = Redis.from_url(url)
    await redis.ping()
    records: list[tuple[str, float]] = []
    ready.set()
    while time.time() < stop_at:
        items = await redis.zrangebyscore(BASELINE_KEY, "-inf", time.time() * 1000,
                                          start=0, num=limit, withscores=True)
        if items:
            await redis.zrem(BASELINE_KEY, *[m for m, _ in items])
            now = time.time()
            records.extend((m.decode(), now - s / 1000) for m, s in items)
        if len(items) < limit:
            await asyncio.sleep(idle_sleep)
    await redis.aclose()
    return records


def _child(kind: str, out: str, *args) -> None:
    """Process entry point (top level, so `spawn` can import it): runs one poller in its
    own event loop and pickles its (timer_id, lateness s) records to `out`."""
    poller = _baseline if kind == "baseline" else _replica
    records = asyncio.run(poller(*args))
    Path(out).write_bytes(pickle.dumps(records))


def _load_records(outs: list[str]) -> list[tuple[str, float]]:
    records: list[tuple[str, float]] = []
    for out in outs:
        records += pickle.loads(Path(out).read_bytes())
    return records


# -- parent -------------------------------------------------------------------------------


def _pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def _redis_cpu(redis: Redis) -> float:
    info = await redis.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


async def bench_memory(redis: Redis, n: int, shards: int, payload_size: int) -> dict:
    await redis.flushall()
    store = TimerStore(redis, "bench-mem", shards)
    payload = (b'{"shop_id":"shop-00042","conversation_id":"c","kind":"first_response"}'
               .ljust(payload_size, b" ")[:payload_size])
    base = time.time() + 86_400
    before = await store.memory_usage()
    started = time.perf_counter()
    for lo in range(0, n, BATCH):
        await store.schedule_many(
            (f"presale:shop-{i % 5000:05d}:conv-{i:08d}:first_response", base + i % 86_400,
             payload)
            for i in range(lo, min(n, lo + BATCH))
        )
    elapsed = time.perf_counter() - started
    after = await store.memory_usage()
    counts = await store.count()
    assert counts["due"] == n, counts
    id_len = len(f"presale:shop-{0:05d}:conv-{0:08d}:first_response")
    await redis.flushall()
    return dict(per_timer=(after - before) / n, total_mb=(after - before) / 2**20,
                rate=n / elapsed, id_len=id_len, payload=len(payload))


def _start_pollers(kind: str, replicas: int, url: str, ns: str, shards: int, stop_at: float,
                   tmp: Path) -> tuple[list, list, list[str]]:
    """Spawn the poller processes (spawn: a clean interpreter and event loop each)."""
    ctx = mp.get_context("spawn")
    procs, readies, outs = [], [], []
    for r in range(replicas):
        out, ready = str(tmp / f"{ns}-{r}.pkl"), ctx.Event()
        if kind == "baseline":
            args = ("baseline", out, url, stop_at, ready)
        else:
            args = ("runner", out, url, ns, shards, stop_at, f"replica-{r}", ready)
        proc = ctx.Process(target=_child, args=args, daemon=True)
        proc.start()
        procs.append(proc)
        readies.append(ready)
        outs.append(out)
    return procs, readies, outs


async def bench_lateness(redis: Redis, url: str, kind: str, replicas: int, rate: int,
                         seconds: float, shards: int, tmp: Path) -> dict:
    ns = f"bench-{kind}-{replicas}-{time.time_ns()}"
    total = int(rate * seconds)
    ids = [f"t{i}" for i in range(total)]
    # The children must know when to stop; leave them time to start (not measured).
    t0 = time.time() + 4.0 + LEAD
    stop_at = t0 + seconds + GRACE
    procs, readies, outs = _start_pollers(kind, replicas, url, ns, shards, stop_at, tmp)
    for ready in readies:
        if not await asyncio.to_thread(ready.wait, 30):
            raise RuntimeError("a poller process did not start")
    cpu_before = await _redis_cpu(redis)
    store = TimerStore(redis, ns, shards)
    for lo in range(0, total, BATCH):
        chunk = range(lo, min(total, lo + BATCH))
        if kind == "baseline":
            await redis.zadd(BASELINE_KEY, {ids[i]: round((t0 + i / rate) * 1000) for i in chunk})
        else:
            await store.schedule_many((ids[i], t0 + i / rate, b"p") for i in chunk)
    for proc in procs:
        await asyncio.to_thread(proc.join, stop_at - time.time() + 30)
        if proc.exitcode != 0:
            raise RuntimeError(f"a poller process failed with exit code {proc.exitcode}")
    cpu = await _redis_cpu(redis) - cpu_before
    records = await asyncio.to_thread(_load_records, outs)
    fired = Counter(tid for tid, _ in records)
    lateness = sorted(late * 1000 for _, late in records)
    if kind == "baseline":
        left = await redis.zcard(BASELINE_KEY)
        await redis.delete(BASELINE_KEY)
    else:
        left = sum((await store.count()).values())
    return dict(
        fired=len(records), dup=sum(n - 1 for n in fired.values()), lost=total - len(fired),
        left=left, p50=_pct(lateness, 0.50), p99=_pct(lateness, 0.99),
        max=lateness[-1] if lateness else float("nan"), cpu=cpu,
    )


async def main(args: argparse.Namespace) -> None:
    server = EmbeddedRedis(port=free_port(), aof=False)
    server.start()
    redis = Redis.from_url(server.url)
    try:
        mem = await bench_memory(redis, args.timers, args.shards, args.payload)
        print(f"\n(a) memory: {args.timers:,} open timers, id {mem['id_len']} B, "
              f"payload {mem['payload']} B, {args.shards} shards")
        print(f"    used_memory +{mem['total_mb']:.1f} MiB = {mem['per_timer']:.0f} B/timer; "
              f"scheduled at {mem['rate']:,.0f} timers/s (pipelined, batches of {BATCH:,})")

        total = int(args.rate * args.seconds)
        print(f"\n(b) lateness: {args.rate:,} timers/s due over {args.seconds:g} s "
              f"({total:,} timers), fire = record only, {os.cpu_count()} CPUs; each poller "
              "its own process;\n    redis cpu = Valkey CPU seconds incl. scheduling the timers")
        header = f"    {'configuration':<26}{'fired':>9}{'dup':>6}{'lost':>6}{'left':>6}" \
                 f"{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'redis cpu s':>13}"
        print(header)
        results = {}
        with tempfile.TemporaryDirectory() as tmp:
            for name, kind, replicas in (
                ("baseline ZRANGEBYSCORE+ZREM", "baseline", 1),
                ("TimerRunner x1", "runner", 1),
                ("TimerRunner x2", "runner", 2),
            ):
                r = await bench_lateness(redis, server.url, kind, replicas, args.rate,
                                         args.seconds, args.shards, Path(tmp))
                results[name] = r
                print(f"    {name:<26}{r['fired']:>9,}{r['dup']:>6}{r['lost']:>6}{r['left']:>6}"
                      f"{r['p50']:>9.1f}{r['p99']:>9.1f}{r['max']:>9.1f}{r['cpu']:>13.2f}")
        base = results["baseline ZRANGEBYSCORE+ZREM"]["p99"]
        ratios = ", ".join(
            f"{name.split()[-1]} {results[name]['p99'] / base:.2f}"
            for name in ("TimerRunner x1", "TimerRunner x2")
        )
        print(f"\n    p99 lateness ratio ours/baseline: {ratios}  (baseline p99 {base:.1f} ms)")
    finally:
        await redis.aclose()
        server.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.timer_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timers", type=int, default=None, help="open timers for (a), 1M")
    parser.add_argument("--rate", type=int, default=5000, help="timers falling due per second")
    parser.add_argument("--seconds", type=float, default=None, help="due window for (b), 20")
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--payload", type=int, default=64, help="payload bytes per timer")
    parser.add_argument("--quick", action="store_true", help="100k timers, 10 s")
    args = parser.parse_args(argv)
    if args.timers is None:
        args.timers = 100_000 if args.quick else 1_000_000
    if args.seconds is None:
        args.seconds = 10.0 if args.quick else 20.0
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
