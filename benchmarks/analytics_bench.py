"""Analytics benchmark (issue "Analytics for the data analyst"): prints, asserts nothing.

    python -m benchmarks.analytics_bench [--events 50000] [--stored 10000000] [--quick]

1. Ingest: `kefu run analytics` (embedded chDB store) against the raw aiokafka
   passthrough of router_bench on the same fresh broker, same record count and batch
   size. The service joins its group and is frozen (SIGSTOP) while the records are
   produced, so it faces a preloaded backlog like the passthrough; the clock runs from
   SIGCONT until its /metrics show every record handled and every partition committed
   (lag 0). Target: >= 0.3 of the passthrough.
2. Query: the JSON report (the API's own code) over a month of one shop with `--stored`
   stored events (messages and order events; rounds, clocks and escalations to match),
   generated straight into the embedded store in time order, in chunks. Once background
   merges have settled, twenty reports (p50, p95); then again after OPTIMIZE FINAL.
   Target: p95 < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp

from benchmarks.analytics_data import ingest_mix
from benchmarks.common.baseline import RAW_IN, RAW_OUT, baseline
from benchmarks.common.kafka_io import produce_all
from benchmarks.common.procs import (
    REPO,
    ServiceProc,
    cpu_seconds,
    start_py_spy,
    stop_py_spy,
    wait_ready,
)
from contracts.topics import ALL_TOPICS
from services.core.embedded import EmbeddedBroker, EmbeddedRedis, free_port
from services.core.kafka import create_topics
from services.core.settings import Settings

SHOP, TZ = "shop-bench", ZoneInfo("Asia/Shanghai")


def start_analytics(broker, redis, workdir: Path, max_records: int) -> ServiceProc:
    port, log = free_port(), workdir / "analytics.log"
    env = {**os.environ, "KEFU_KAFKA_BOOTSTRAP": broker.bootstrap, "KEFU_REDIS_URL": redis.url,
           "KEFU_HTTP_PORT": str(port), "KEFU_GROUP_PREFIX": f"bench-{uuid.uuid4().hex[:6]}",
           "KEFU_LOG_LEVEL": "WARNING", "KEFU_LOG_FORMAT": "json",
           "KEFU_ANALYTICS_DATA_DIR": str(workdir / "store"), "KEFU_ANALYTICS_TOKEN": "bench",
           "KEFU_ANALYTICS_MAX_RECORDS": str(max_records)}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "services.cli.main", "run", "analytics"],
                                env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    return ServiceProc(proc, port, log)


async def handled(http: aiohttp.ClientSession, service: ServiceProc) -> tuple[float, bool]:
    """(records handled, every assigned partition committed to its end) from /metrics."""
    async with http.get(f"http://127.0.0.1:{service.port}/metrics") as resp:
        text = await resp.text()
    seen, lags = 0.0, []
    for line in text.splitlines():
        if line.startswith("kefu_events_in_total{"):
            seen += float(line.rsplit(" ", 1)[1])
        elif line.startswith("kefu_consumer_lag{"):
            lags.append(float(line.rsplit(" ", 1)[1]))
    return seen, bool(lags) and not any(lags)


async def ingest(args, workdir: Path) -> None:
    broker, redis = EmbeddedBroker(port=free_port()), EmbeddedRedis(
        port=free_port(), data_dir=workdir / "redis")
    broker.start(), redis.start()
    try:
        settings = Settings(kafka_bootstrap=broker.bootstrap, redis_url=redis.url)
        await create_topics(settings, [*ALL_TOPICS, RAW_IN, RAW_OUT],
                            partitions=args.partitions)
        mix = ingest_mix(args.events)
        n = sum(len(records) for records in mix.values())
        flat = [record for records in mix.values() for record in records]
        size = sum(len(v) for _, v in flat) / n
        say(f"ingest: {n} records ({size:.0f} B on average), {args.partitions} partitions, "
            f"batches of {args.max_records}")
        await produce_all(broker.bootstrap, RAW_IN, flat)

        def servers() -> float:
            return sum(cpu_seconds(p) for p in (broker.proc.pid, redis.proc.pid))

        before = await baseline(settings, n, args.max_records, servers)
        service = start_analytics(broker, redis, workdir, args.max_records)
        try:
            async with aiohttp.ClientSession() as http:
                await wait_ready(http, [service], timeout=120)
                service.signal(signal.SIGSTOP)
                for topic, records in mix.items():
                    await produce_all(broker.bootstrap, topic, records)
                cpu0, started = service.cpu_seconds(), time.perf_counter()
                service.signal(signal.SIGCONT)
                spy = start_py_spy(service.pid, args.profile) if args.profile else None
                while True:
                    seen, committed = await handled(http, service)
                    if seen >= n and committed:
                        break
                    if time.perf_counter() - started > 600:
                        raise RuntimeError(f"analytics handled {seen:.0f} of {n}")
                    await asyncio.sleep(0.05)
                elapsed = time.perf_counter() - started
                cpu = service.cpu_seconds() - cpu0
                if spy is not None:
                    stop_py_spy(spy)
        finally:
            service.stop()
        after = await baseline(settings, n, args.max_records, servers)
        raw = (before.events_per_s + after.events_per_s) / 2
        rate = n / elapsed
        say(f"  raw passthrough  {raw:10,.0f} rec/s  (runs {before.events_per_s:,.0f} and "
            f"{after.events_per_s:,.0f}; {before.cpu_us_per_event:.0f} us CPU/record)")
        say(f"  analytics        {rate:10,.0f} rec/s  ({cpu / n * 1e6:.0f} us CPU/record, "
            f"{cpu / elapsed:.2f} cores)")
        say(f"  ratio            {rate / raw:10.2f}   (target >= 0.3; {load()})")
    finally:
        broker.stop(), redis.stop()


def fill(store, stored: int, chunks: int) -> dict[str, int]:
    counts = {"messages": stored * 3 // 4, "commerce": stored // 4, "rounds": stored // 4,
              "clocks": stored // 16, "escalations": stored // 100}
    text = (Path(__file__).parent / "analytics_fill.sql").read_text(encoding="utf-8")
    statements = [s for s in text.split(";\n") if "INSERT" in s]
    for chunk in range(chunks):
        values = {"shop": SHOP, "start": "2026-10-31 16:00:00", "month_ms": 30 * 86_400_000,
                  **counts}
        for table, total in counts.items():
            values[f"offset_{table}"] = total * chunk // chunks
            values[f"chunk_{table}"] = total * (chunk + 1) // chunks - total * chunk // chunks
        for statement in statements:
            store.command(statement.format(**values))
    return counts


async def query(args, workdir: Path) -> None:
    from services.analytics.report.build import QUERIES, build_report
    from services.analytics.report.request import report_request
    from services.analytics.store.embedded import EmbeddedStore
    from services.analytics.store.migrate import migrate
    from services.analytics.store.sql_files import query as sql

    store = EmbeddedStore(workdir / "query-store", "bench")
    migrate(store, retention_days=3650)
    started = time.perf_counter()
    counts = fill(store, args.stored, args.chunks)
    took = time.perf_counter() - started
    say(f"query: {counts['messages'] + counts['commerce']:,} stored events of one shop in "
        f"November 2026 ({counts['rounds']:,} rounds, {counts['clocks']:,} clocks, "
        f"{counts['escalations']:,} escalations), inserted in {took:.0f} s")
    request = report_request(shop_id=SHOP, tz=TZ, now=datetime.now(TZ), start="2026-11-01",
                             end="2026-11-30", by="agent")
    for label in ("as background merges left the parts", "after OPTIMIZE FINAL"):
        if label.startswith("after"):
            for table in counts:
                store.command(f"OPTIMIZE TABLE {table} FINAL")
        else:  # what a store sees between bursts of ingestion, not the merge storm itself
            await settled(store)
        parts = store.select("SELECT count() FROM system.parts WHERE database = "
                             "currentDatabase() AND active").rows[0][0]
        times, cpu0 = [], time.process_time()
        for _ in range(args.runs):
            t0 = time.perf_counter()
            report = await build_report(store, request, conversion_days=3)
            times.append(time.perf_counter() - t0)
        cpu = (time.process_time() - cpu0) / args.runs  # chDB runs in this process
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        say(f"  {label}: {parts} active parts; report p50 {statistics.median(times):.3f} s, "
            f"p95 {p95:.3f} s over {args.runs} runs (target p95 < 1 s), {cpu:.2f} CPU-s per "
            f"report; {report.replies.rounds:,} rounds, "
            f"{sum(report.intents.values()):,} buyer messages; {load()}")
    stored = store.select("SELECT sum(data_compressed_bytes), sum(rows) FROM system.parts "
                          "WHERE database = currentDatabase() AND active").rows[0]
    events = counts["messages"] + counts["commerce"]
    say(f"  store: {stored[0] / 2**20:,.0f} MiB compressed for {stored[1]:,} rows, "
        f"{stored[0] / events:.0f} B per stored event (rounds, clocks, escalations included)")
    params = {**request.params(datetime.now(TZ)), "days": 3}
    slowest = []
    for name in QUERIES:
        t0 = time.perf_counter()
        store.select(sql(name), params)
        slowest.append((time.perf_counter() - t0, name))
    say("  per query, one at a time: " + ", ".join(
        f"{name} {t:.3f} s" for t, name in sorted(slowest, reverse=True)))
    store.close()


async def settled(store, quiet: float = 3.0, timeout: float = 300.0) -> None:
    """Wait until no merge has run for `quiet` seconds."""
    deadline, calm_since = time.monotonic() + timeout, time.monotonic()
    while time.monotonic() < deadline:
        if store.select("SELECT count() FROM system.merges").rows[0][0]:
            calm_since = time.monotonic()
        elif time.monotonic() - calm_since >= quiet:
            return
        await asyncio.sleep(0.2)


def load() -> str:
    """The 1, 5 and 15-minute load averages: a shared machine's figures need them."""
    try:
        return "load " + " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "load unknown"


def say(text: str) -> None:
    print(text, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="analytics_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=50_000, help="records to ingest")
    parser.add_argument("--stored", type=int, default=10_000_000, help="events in the store")
    parser.add_argument("--chunks", type=int, default=20, help="inserts that fill the store")
    parser.add_argument("--runs", type=int, default=20, help="reports timed")
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--max-records", type=int, default=5000,
                        help="records per batch, for both (KEFU_ANALYTICS_MAX_RECORDS)")
    parser.add_argument("--quick", action="store_true", help="10,000 records, 1,000,000 stored")
    parser.add_argument("--profile", metavar="FILE", help="py-spy the analytics service while "
                        "it ingests (.txt raw, .json speedscope, else a flame graph SVG)")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-query", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.stored, args.runs = 10_000, 1_000_000, 10
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kefu-analytics-bench-") as tmp:
        if not args.skip_ingest:
            asyncio.run(ingest(args, Path(tmp)))
        if not args.skip_query:
            asyncio.run(query(args, Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
