"""The progress line printed every --interval seconds."""

from __future__ import annotations

from typing import Any

from benchmarks.soak.latency import summarize
from benchmarks.soak.processes import load_average
from benchmarks.soak.summary import _num


class Progress:
    """The interval lines of `Soak` (a mixin)."""

    def interval_line(self, elapsed: float, procs: dict, prev: dict, redis: dict | None,
                      lags: dict[str, float]) -> dict[str, Any]:
        w, self.window = self.window, self._new_window()
        span = max(1e-6, elapsed - self.last_line)
        self.last_line = elapsed
        load = load_average()
        if load:
            self.loads.append(load[0])
        role = summarize(w["role"])
        cores = {}
        for name, p in procs.items():
            before = prev.get(name)
            if before and p["cpu_s"] is not None and before["cpu_s"] is not None:
                span_s = max(1e-6, p["at"] - before["at"])
                cores[name] = round((p["cpu_s"] - before["cpu_s"]) / span_s, 3)
        record = {
            "t": round(elapsed, 1), "phase": self.phase, "sent": w["sent"],
            "sent_per_s": round(w["sent"] / span, 1), "out_per_s": round(w["out"] / span, 1),
            "latency_role_ms": role, "latency_orders_ms": summarize(w["orders"]),
            "escalations": w["esc"], "escalation_lateness_ms": summarize(w["late"]),
            "lag_max": lags, "outstanding": self.ledger.outstanding,
            "rss_mb": {n: p["rss_mb"] for n, p in procs.items()}, "cores": cores,
            "redis_used_mb": round(redis["used_memory"] / 2**20, 1) if redis else None,
            "redis_keys": redis["keys"] if redis else None, "load_avg": load,
            "running_stories": self.traffic.running_stories,
        }
        self.intervals.append(record)
        return record

    def header(self) -> str:
        names = "".join(f"{t.name[:9]:>10}" for t in self.targets)
        return (f"{'t s':>6} {'phase':<5} {'sent/s':>7} {'out/s':>7} | {'e2e p50':>7} "
                f"{'p95':>5} {'p99 ms':>6} | lag max{names} | VmRSS MB{names} | "
                f"{'redis MB':>8} {'esc':>5} {'load1':>5}")

    def format_line(self, r: dict[str, Any]) -> str:
        def ms(v, width):
            return f"{v:{width}.0f}" if v is not None else f"{'-':>{width}}"

        lat = r["latency_role_ms"]
        lag = "".join(f"{_num(r['lag_max'].get(t.name)):>10}" for t in self.targets)
        rss = "".join(f"{_num(r['rss_mb'].get(t.name)):>10}" for t in self.targets)
        redis = f"{r['redis_used_mb']:8.1f}" if r["redis_used_mb"] is not None else f"{'-':>8}"
        load = f"{r['load_avg'][0]:5.2f}" if r["load_avg"] else f"{'-':>5}"
        return (f"{r['t']:6.0f} {r['phase']:<5} {r['sent_per_s']:7.1f} {r['out_per_s']:7.1f} | "
                f"{ms(lat['p50'], 7)} {ms(lat['p95'], 5)} {ms(lat['p99'], 6)} | "
                f"{'':7}{lag} | {'':8}{rss} | {redis} {r['escalations']:5d} {load}")
