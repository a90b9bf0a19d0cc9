"""HTTP ingest gateway benchmark on its own fresh embedded stack (issue #17).

    python -m benchmarks.gateway_bench [--requests 2000] [--batch 100] [--concurrency 64]
                                       [--quick] [--partitions 6]

Measures, in one run on one broker, events written to kefu.inbound per second:

- baseline: a client producing to kefu.inbound directly: `--concurrency` tasks, each
  sending a batch of `--batch` records with kefu's producer settings (`create_producer`:
  acks=all, 512 KiB batches, the Java client's partitioner), `send()` per record, and
  waiting for the batch's acks before the next one. (Not `send_records` from 64 tasks at
  once: aiokafka's `send_batch` gives up with KafkaTimeoutError when many callers wait
  on one partition.) Run before and after the gateway; the ratio uses the mean (the
  machine's speed drifts).
- gateway: `kefu run gateway` as a subprocess, and a local load generator (aiohttp) with
  `--concurrency` requests in flight, each a signed NDJSON body of `--batch` events. A
  request counts once it was answered 202 with every event accepted.

The same ~600-byte events (benchmarks.router_bench's workload) go both ways; every
event_id is unique, so the gateway writes every one. Latency is per batch: from the
send to the broker's acks (baseline), or from the request to its answer (gateway).
Prints a table and exits 0: no assertions, this is for reading.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from benchmarks.common.kafka_io import HEADERS
from benchmarks.common.procs import REPO, cpu_seconds, embedded_stack
from benchmarks.common.text import fmt_rate, pct, say
from benchmarks.router_workload import Workload, make_workload
from contracts import topics
from services.core.embedded import EmbeddedBroker, EmbeddedRedis, free_port
from services.core.kafka import create_producer, create_topics
from services.core.runtime import all_acked
from services.core.settings import Settings
from services.gateway.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

SECRET = "bench-secret"
NDJSON = "application/x-ndjson"
Batch = Sequence[tuple[bytes, bytes]]


@dataclass
class Run:
    events_per_s: float
    latencies: list[float]
    cpu_us_per_event: float  # the sending side: the client, or client + gateway
    server_cores: float  # broker + Redis
    gateway_cpu_us: float | None = None
    peak_rss_mb: float | None = None
    failed: int = 0


async def concurrently(batches: list[Batch], concurrency: int,
                       send: Callable[[Batch], Awaitable[bool]]) -> tuple[float, list[float], int]:
    """Send every batch, `concurrency` at a time; (seconds, latencies, failed batches)."""
    queue = iter(batches)
    latencies: list[float] = []
    failed = 0

    async def worker() -> None:
        nonlocal failed
        for batch in queue:
            started = time.perf_counter()
            ok = await send(batch)
            latencies.append(time.perf_counter() - started)
            failed += not ok

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, failed


class Bench:
    def __init__(self, args: argparse.Namespace, broker: EmbeddedBroker, redis: EmbeddedRedis,
                 workdir: Path) -> None:
        self.args, self.broker, self.redis, self.workdir = args, broker, redis, workdir
        self.settings = Settings(kafka_bootstrap=broker.bootstrap, redis_url=redis.url)

    def servers_cpu(self) -> float:
        return sum(cpu_seconds(s.proc.pid) for s in (self.broker, self.redis) if s.proc)

    async def direct(self, batches: list[Batch], warmup: list[Batch]) -> Run:
        producer = create_producer(self.settings, service="bench-direct")
        await producer.start()

        async def send(batch: Batch) -> bool:
            await all_acked([await producer.send(topics.INBOUND, value, key=key, headers=HEADERS)
                             for key, value in batch])
            return True

        try:
            await concurrently(warmup, self.args.concurrency, send)
            cpu, servers = time.process_time(), self.servers_cpu()
            seconds, latencies, _ = await concurrently(batches, self.args.concurrency, send)
            cpu, servers = time.process_time() - cpu, self.servers_cpu() - servers
        finally:
            await producer.stop()
        events = sum(map(len, batches))
        return Run(events / seconds, latencies, cpu / events * 1e6, servers / seconds)

    async def gateway(self, batches: list[Batch], warmup: list[Batch]) -> Run:
        proc, port, log = start_gateway(self.broker, self.redis, self.workdir)
        url = f"http://127.0.0.1:{port}"
        connector = aiohttp.TCPConnector(limit=self.args.concurrency)
        try:
            async with aiohttp.ClientSession(connector=connector) as http:
                await wait_ready(http, url, proc, log)
                bodies = {id(b): b"\n".join(v for _, v in b) + b"\n" for b in warmup + batches}

                async def send(batch: Batch) -> bool:
                    body = bodies[id(batch)]
                    timestamp = str(int(time.time()))
                    headers = {"Content-Type": NDJSON, TIMESTAMP_HEADER: timestamp,
                               SIGNATURE_HEADER: sign(SECRET, timestamp, body)}
                    async with http.post(f"{url}/v1/events", data=body, headers=headers) as resp:
                        answer = await resp.json()
                    return resp.status == 202 and answer["accepted"] == len(batch)

                await concurrently(warmup, self.args.concurrency, send)
                cpu, gw, servers = time.process_time(), cpu_seconds(proc.pid), self.servers_cpu()
                seconds, latencies, failed = await concurrently(
                    batches, self.args.concurrency, send)
                cpu, gw = time.process_time() - cpu, cpu_seconds(proc.pid) - gw
                servers = self.servers_cpu() - servers
                rss = peak_rss_mb(proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        events = sum(map(len, batches)) - failed * self.args.batch
        return Run(events / seconds, latencies, (cpu + gw) / events * 1e6, servers / seconds,
                   gateway_cpu_us=gw / events * 1e6, peak_rss_mb=rss, failed=failed)


def start_gateway(broker: EmbeddedBroker, redis: EmbeddedRedis,
                  workdir: Path) -> tuple[subprocess.Popen, int, Path]:
    port = free_port()
    log = workdir / "gateway.log"
    env = dict(os.environ, KEFU_KAFKA_BOOTSTRAP=broker.bootstrap, KEFU_REDIS_URL=redis.url,
               KEFU_HTTP_PORT=str(port), KEFU_LOG_LEVEL="WARNING", KEFU_LOG_FORMAT="json",
               KEFU_INGEST_SECRET=SECRET)
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "services.cli.main", "run", "gateway"],
                                env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    return proc, port, log


def exited(proc: subprocess.Popen, log: Path) -> RuntimeError:
    return RuntimeError(f"the gateway exited; see {log}:\n" + log.read_text()[-2000:])


async def wait_ready(http: aiohttp.ClientSession, url: str, proc: subprocess.Popen,
                     log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise exited(proc, log)
        try:
            async with http.get(f"{url}/readyz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the gateway was not ready after {timeout:.0f}s; see {log}")


def peak_rss_mb(pid: int) -> float | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def batches_of(workload: Workload, size: int) -> list[Batch]:
    records = workload.records
    return [records[i:i + size] for i in range(0, len(records), size)]


def report(args, workload: Workload, direct: list[Run], gateway: Run, wall: float) -> str:
    base = sum(r.events_per_s for r in direct) / len(direct)
    ms = [sorted(x * 1000 for x in run.latencies) for run in (*direct, gateway)]
    row = "  {:<30}{:>14}{:>10}{:>10}{:>12}{:>10}".format
    lines = [
        "",
        f"gateway_bench: {args.requests:,} requests x {args.batch} events "
        f"({workload.mean_bytes:.0f} B mean), {args.concurrency} in flight, "
        f"{args.partitions} partitions",
        row("", "throughput", "p50 ms", "p99 ms", "CPU/event", "servers"),
    ]
    for i, run in enumerate(direct):
        lines.append(row(f"direct produce, run {i + 1}", fmt_rate(run.events_per_s),
                         f"{pct(ms[i], 50):.1f}", f"{pct(ms[i], 99):.1f}",
                         f"{run.cpu_us_per_event:.0f} us", f"{run.server_cores:.2f}"))
    lines.append(row("gateway (HTTP, NDJSON)", fmt_rate(gateway.events_per_s),
                     f"{pct(ms[-1], 50):.1f}", f"{pct(ms[-1], 99):.1f}",
                     f"{gateway.cpu_us_per_event:.0f} us", f"{gateway.server_cores:.2f}"))
    lines += [
        f"  ratio gateway / direct produce (mean of {len(direct)}): "
        f"{gateway.events_per_s / base:.2f}   (target >= 0.5)",
        f"  gateway process: {gateway.gateway_cpu_us:.0f} us CPU/event, "
        f"peak RSS {gateway.peak_rss_mb or 0:.0f} MB; requests not fully accepted: "
        f"{gateway.failed}",
        "  CPU/event: the sending side (bench process, plus the gateway process for the "
        "gateway); servers: broker + Redis cores",
        f"  wall {wall:.0f} s",
    ]
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> int:
    wall = time.monotonic()
    with embedded_stack("kefu-gateway-bench-") as (broker, redis, workdir):
        bench = Bench(args, broker, redis, workdir)
        await create_topics(bench.settings, list(topics.ALL_TOPICS), args.partitions)
        events = args.requests * args.batch
        say(f"generating {events:,} events ...")
        workload = make_workload(events, seed=7, run=uuid.uuid4().hex[:6])
        warmup = batches_of(make_workload(args.concurrency * args.batch, seed=8,
                                          run=uuid.uuid4().hex[:6]), args.batch)
        batches = batches_of(workload, args.batch)
        say("direct produce ...")
        direct = [await bench.direct(batches, warmup)]
        say(f"direct {fmt_rate(direct[0].events_per_s)}; gateway ...")
        gateway = await bench.gateway(batches, warmup)
        say(f"gateway {fmt_rate(gateway.events_per_s)}; direct produce again ...")
        direct.append(await bench.direct(batches, warmup))
        print(report(args, workload, direct, gateway, time.monotonic() - wall), flush=True)
        return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gateway_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=None,
                        help="timed requests (batches) per run (default 2000, --quick 400)")
    parser.add_argument("--batch", type=int, default=100, help="events per request")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--quick", action="store_true", help="400 requests per run")
    args = parser.parse_args(argv)
    if args.requests is None:
        args.requests = 400 if args.quick else 2000
    return args


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
