"""Sampling during the run: /metrics scrapes, Redis stats and key census, processes."""

from __future__ import annotations

import time
from typing import Any

import aiohttp

from benchmarks.soak.metrics_text import metric_by, metric_total
from benchmarks.soak.processes import proc_cpu, proc_memory
from benchmarks.soak.redis_keys import key_kind


class Sampling:
    """The scraping and sampling of `Soak` (a mixin)."""

    async def scrape(self, http: aiohttp.ClientSession) -> None:
        for target in self.targets:
            if target.base is None:
                continue
            try:
                async with http.get(f"{target.base}/metrics") as resp:
                    text = await resp.text()
            except (aiohttp.ClientError, TimeoutError, OSError):
                target.scrape_errors += 1
                continue
            lag = metric_total(text, "kefu_consumer_lag")
            sample = {
                "lag": lag,
                "events_in": metric_total(text, "kefu_events_in_total"),
                "events_out": metric_by(text, "kefu_events_out_total", "topic"),
                "dlq": metric_total(text, "kefu_dlq_total"),
                "retries": metric_total(text, "kefu_transient_retries_total"),
                "batch_s": metric_total(text, "kefu_batch_seconds_sum"),
                "batches": metric_total(text, "kefu_batch_seconds_count"),
            }
            if not target.first:
                target.first = sample
            target.last = sample
            target.lag_max = max(target.lag_max, lag)
            target.lag_interval = max(target.lag_interval, lag)

    async def redis_stats(self) -> dict[str, Any] | None:
        if self.redis is None:
            return None
        try:
            info = await self.redis.info("memory")
            keys = await self.redis.dbsize()
        except Exception:  # noqa: BLE001 - stats are best effort
            return None
        return {"used_memory": int(info["used_memory"]), "keys": int(keys)}

    async def key_census(self, budget_s: float = 60.0) -> dict[str, Any] | None:
        """Keys and bytes (MEMORY USAGE) by key kind, over a full SCAN (or as much of it
        as `budget_s` allows, then `complete` is false)."""
        if self.redis is None:
            return None
        kinds: dict[str, list[int]] = {}
        deadline = time.monotonic() + budget_s
        cursor, complete = 0, True
        try:
            while True:
                cursor, keys = await self.redis.scan(cursor, count=1000)
                if keys:
                    pipe = self.redis.pipeline(transaction=False)
                    for key in keys:
                        pipe.memory_usage(key)
                    sizes = await pipe.execute()
                    for key, size in zip(keys, sizes, strict=True):
                        entry = kinds.setdefault(key_kind(key.decode(errors="replace")), [0, 0])
                        entry[0] += 1
                        entry[1] += int(size or 0)
                if cursor == 0:
                    break
                if time.monotonic() > deadline:
                    complete = False
                    break
        except Exception as exc:  # noqa: BLE001 - stats are best effort
            return {"error": repr(exc)}
        ordered = sorted(kinds.items(), key=lambda kv: -kv[1][1])
        return {"complete": complete, **await self._timer_census(kinds),
                "kinds": {k: {"keys": n, "bytes": b, "bytes_per_key": round(b / n)}
                          for k, (n, b) in ordered}}

    async def _timer_census(self, kinds: dict[str, list[int]]) -> dict[str, Any]:
        """Open timers (members of every due and in-flight set) and the bytes of all
        timer keys per open timer."""
        keys = [k async for k in self.redis.scan_iter(match="kefu:{timers:*}:*", count=1000)]
        sets = [k for k in keys if k.endswith((b":due", b":inflight"))]
        pipe = self.redis.pipeline(transaction=False)
        for key in sets:
            pipe.zcard(key)
        timers = sum(await pipe.execute()) if sets else 0
        timer_bytes = sum(b for k, (_, b) in kinds.items() if k.startswith("kefu:{timers:"))
        return {"open_timers": timers,
                "bytes_per_open_timer": round(timer_bytes / timers) if timers else None}

    # -- reporting -------------------------------------------------------------------
    def sample_processes(self, extra: dict[str, int]) -> dict[str, dict[str, Any]]:
        now = time.monotonic()
        out = {}
        for name, pid in [(t.name, t.pid) for t in self.targets] + list(extra.items()):
            if pid is None:
                continue
            rss, hwm = proc_memory(pid)
            cpu = proc_cpu(pid)
            out[name] = {"pid": pid, "rss_mb": rss, "hwm_mb": hwm, "cpu_s": cpu, "at": now}
        return out
