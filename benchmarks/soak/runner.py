"""Soak: one run against a stack (send, consume, scrape, drain, report)."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import aiohttp
from redis.asyncio import Redis

from benchmarks.soak.accounting import EscalationLog, Ledger
from benchmarks.soak.console import say
from benchmarks.soak.constants import MAX_DRAIN, SCRAPE_EVERY
from benchmarks.soak.kafka_io import KafkaTraffic
from benchmarks.soak.missing_probe import probe_missing
from benchmarks.soak.pauses import Pauses, grace_of
from benchmarks.soak.processes import load_average
from benchmarks.soak.progress import Progress
from benchmarks.soak.report_builder import ReportBuilder
from benchmarks.soak.sampling import Sampling
from benchmarks.soak.sla_check import SlaCheck, sla_policy_of
from benchmarks.soak.targets import Target
from benchmarks.soak.traffic import Traffic
from contracts import topics


class Soak(KafkaTraffic, Sampling, Progress, ReportBuilder):
    def __init__(self, args: argparse.Namespace, *, bootstrap: str, redis_url: str | None,
                 targets: list[Target], run_id: str, chaos=None) -> None:
        """`chaos`: a `ChaosRun` (--chaos): faults while sending, invariants at the end."""
        self.args = args
        self.chaos = chaos
        self.bootstrap, self.redis_url, self.targets = bootstrap, redis_url, targets
        self.run_id = run_id
        self.shops = args.shops or max(10, round(args.rate / 4))
        self.traffic = Traffic(run_id=run_id, seed=args.seed, shops=self.shops,
                               agents_per_shop=args.agents)
        self.ledger = Ledger(f"evt-{run_id}-", track_repeats=chaos is not None)
        self.escalations = EscalationLog(f"-{run_id}-")
        policy = sla_policy_of(args.policy)
        self.sla = SlaCheck(policy) if policy is not None else None
        self.grace = grace_of(args)
        self.pauses = Pauses(args.pause or [], targets)
        self.stopping = asyncio.Event()  # stop sending (Ctrl-C or the end)
        self.abort = asyncio.Event()  # stop draining too (second Ctrl-C)
        self.mix: Counter[str] = Counter()
        self.bytes_sent = 0
        self.dlq_ours = self.dlq_other = 0
        self.read_gaps: Counter[str] = Counter()
        """Offsets skipped within a partition by the soak's reader, per topic (a record
        the broker acked but the reader never got: none expected)."""
        self.gaps: list[tuple[Any, int, int]] = []
        """Where: (partition, first offset skipped, the offset read next)."""
        self.gaps_probed: list[dict] = []
        self.latency: dict[str, list[float]] = {"role": [], "orders": []}
        self.window: dict[str, Any] = self._new_window()
        self.intervals: list[dict[str, Any]] = []
        self.loads: list[float] = []
        self.redis: Redis | None = None
        self.redis_first: dict[str, Any] | None = None
        self.redis_last: dict[str, Any] | None = None
        self.phase = "send"
        self.t0 = 0.0
        self.send_seconds = 0.0
        self.send_end: datetime | None = None
        self.last_line = 0.0
        self.caught_up = False
        self.missing_probed: list[dict[str, Any]] = []

    @staticmethod
    def _new_window() -> dict[str, Any]:
        return {"sent": 0, "out": 0, "role": [], "orders": [], "esc": 0, "late": []}

    # -- producer --------------------------------------------------------------------

    async def run(self, extra_pids: dict[str, int]) -> dict[str, Any]:
        if self.redis_url:
            self.redis = Redis.from_url(self.redis_url, socket_timeout=5, socket_connect_timeout=2)
        try:
            return await self._run(extra_pids)
        finally:
            if self.redis is not None:
                await self.redis.aclose()

    async def _run(self, extra_pids: dict[str, int]) -> dict[str, Any]:
        args = self.args
        say(f"soak {self.run_id}: {args.rate:g} ev/s for {args.minutes:g} min into "
            f"{topics.INBOUND} at {self.bootstrap}; {self.shops} shops x {args.agents} agents; "
            f"services: {', '.join(t.name for t in self.targets) or 'none found'}")
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal)
        started_at = datetime.now(UTC)
        load_start = load_average()
        ready = asyncio.Event()
        consumer = asyncio.create_task(self.consume(ready))
        await asyncio.wait([consumer, asyncio.create_task(ready.wait())],
                           return_when=asyncio.FIRST_COMPLETED)
        if consumer.done():
            consumer.result()  # raises why the consumer could not start
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            await self.scrape(http)
            self.redis_first = await self.redis_stats()
            first_procs = self.sample_processes(extra_pids)
            prev = first_procs
            print(self.header(), flush=True)
            self.t0 = loop.time()
            producer = asyncio.create_task(self.produce())
            if self.chaos is not None:
                self.chaos.start(self.t0)
            drain = min(args.drain, MAX_DRAIN)
            drain_until = None
            next_line = args.interval
            try:
                while True:
                    await asyncio.sleep(SCRAPE_EVERY)
                    if consumer.done():
                        consumer.result()
                    await self.scrape(http)
                    elapsed = loop.time() - self.t0
                    if producer.done() and drain_until is None:
                        producer.result()
                        self.send_end = datetime.now(UTC)
                        self.phase = "drain"
                        if self.chaos is not None:
                            self.chaos.stop()
                        drain_until = loop.time() + drain
                        say(f"sent {sum(self.mix.values()):,} events in "
                            f"{self.send_seconds:.0f} s; draining (at most {drain:g} s) ...")
                    self.pauses.step(elapsed)
                    caught_up = self.ledger.outstanding == 0 and all(
                        not t.last or t.last["lag"] == 0 for t in self.targets) and (
                        # deadlines up to the end of sending fire after the grace
                        elapsed >= self.send_seconds + self.grace + 3) and (
                        self.chaos is None or self.chaos.settled()) and (
                        self.sla is None or not self.sla.missing(self.horizon()))
                    finished = drain_until is not None and (
                        caught_up or loop.time() >= drain_until or self.abort.is_set())
                    self.caught_up = caught_up
                    if finished and self.chaos is not None:
                        self.chaos.freeze()  # the history and the receiver, at one instant
                    if elapsed >= next_line or finished:
                        next_line = elapsed + args.interval
                        procs = self.sample_processes(extra_pids)
                        lags, batches = {}, {}
                        for t in self.targets:
                            lags[t.name] = t.lag_interval
                            t.lag_interval = t.last.get("lag", 0.0) if t.last else 0.0
                            batches[t.name] = t.batches_since(t.mark or t.first)
                            t.mark = t.last
                        record = self.interval_line(elapsed, procs, prev,
                                                    await self.redis_stats(), lags)
                        record["batch_ms"] = {n: b[0] for n, b in batches.items()}
                        record["records_per_batch"] = {n: b[1] for n, b in batches.items()}
                        prev = procs
                        print(self.format_line(record), flush=True)
                    if finished:
                        break
            finally:
                if self.chaos is not None:
                    self.chaos.freeze()
                self.pauses.resume_all()
                self.stopping.set()
                if self.chaos is not None:
                    await self.chaos.finish()
                if not producer.done():
                    await asyncio.wait([producer], timeout=30)
            drain_s = loop.time() - self.t0 - self.send_seconds
            self.abort.set()
            await asyncio.wait([consumer], timeout=10)
            self.gaps_probed = await self.probe_gaps()
            await self.scrape(http)
            last_procs = self.sample_processes(extra_pids)
            self.redis_last = await self.redis_stats()
        census = await self.key_census() if self.redis is not None else None
        if self.redis is not None and self.sla is not None:
            self.missing_probed = await probe_missing(
                self.redis, self.sla.missing(self.horizon()), self.sla.shops)
        return self.build_report(started_at, load_start, first_procs, last_procs, drain_s,
                                 census)

    def horizon(self) -> datetime:
        """Deadlines before this must have been escalated by the end of the drain: every
        service read past the end of sending plus the grace (see the drain's end)."""
        return self.send_end or datetime.now(UTC)

    def _on_signal(self) -> None:
        if self.stopping.is_set():
            self.abort.set()
        else:
            say("stopping: no more sends; draining (Ctrl-C again to skip the drain)")
            self.stopping.set()
