"""Building the final report dictionary of a run."""

from __future__ import annotations

import os
import sys
from typing import Any

from benchmarks.soak.constants import MAX_DRAIN
from benchmarks.soak.latency import summarize
from benchmarks.soak.processes import load_average
from benchmarks.soak.summary import _process_delta


class ReportBuilder:
    """The final report of `Soak` (a mixin)."""

    def build_report(self, started_at, load_start, first_procs, last_procs, drain_s,
                     census) -> dict[str, Any]:
        sent = sum(self.mix.values())
        services = {}
        for t in self.targets:
            entry = {"pid": t.pid, "metrics": t.base, "lag_max": t.lag_max,
                     "lag_end": t.last.get("lag") if t.last else None,
                     **_process_delta(first_procs.get(t.name, {}), last_procs.get(t.name, {}))}
            first, last = t.first or {}, t.last or {}
            events_in = last.get("events_in", 0) - first.get("events_in", 0) if last else None
            out0 = first.get("events_out", {})
            cpu = entry["cpu_s"]
            batch_ms, per_batch = t.batches_since(first)
            entry.update(
                batch_ms_mean=batch_ms, records_per_batch=per_batch,
                events_in=events_in,
                events_out={k: v - out0.get(k, 0) for k, v in last.get("events_out", {}).items()},
                cpu_us_per_event_in=round(cpu / events_in * 1e6) if cpu and events_in else None,
                dlq=last.get("dlq", 0) - first.get("dlq", 0) if last else None,
                transient_retries=(last.get("retries", 0) - first.get("retries", 0)
                                   if last else None),
                scrape_errors=t.scrape_errors,
            )
            services[t.name] = entry
        others = {name: {"pid": last_procs[name]["pid"],
                         **_process_delta(first_procs.get(name, {}), last_procs[name])}
                  for name in sorted(set(last_procs) - {t.name for t in self.targets})}
        redis = None
        if self.redis_first and self.redis_last:
            grown = self.redis_last["used_memory"] - self.redis_first["used_memory"]
            redis = {"used_memory_start": self.redis_first["used_memory"],
                     "used_memory_end": self.redis_last["used_memory"],
                     "keys_start": self.redis_first["keys"], "keys_end": self.redis_last["keys"],
                     "bytes_per_event_sent": round(grown / sent, 1) if sent else None,
                     "keys_per_event_sent": round(
                         (self.redis_last["keys"] - self.redis_first["keys"]) / sent, 3)
                     if sent else None,
                     "census": census}
        all_latency = self.latency["role"] + self.latency["orders"]
        loads = self.loads
        delivery = {**self.ledger.summary(), "dlq_ours": self.dlq_ours,
                    "dlq_other": self.dlq_other, "read_gaps": dict(self.read_gaps),
                    "read_gaps_probed": self.gaps_probed}
        sla = self.sla.summary(self.horizon()) if self.sla is not None else None
        if sla is not None:
            sla["missing_probed"] = self.missing_probed
        chaos = (self.chaos.report(delivery, self.ledger.repeats, sla)
                 if self.chaos is not None else {})
        return {
            "kefu_soak": 1,
            "run_id": self.run_id,
            "started_at": started_at.isoformat(timespec="seconds"),
            "config": {"rate": self.args.rate, "minutes": self.args.minutes,
                       "drain_max_s": min(self.args.drain, MAX_DRAIN), "shops": self.shops,
                       "agents_per_shop": self.args.agents, "seed": self.args.seed,
                       "embedded": bool(self.args.embedded), "bootstrap": self.bootstrap,
                       "partitions": self.args.partitions if self.args.embedded else None,
                       "services": [t.name for t in self.targets]},
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                        "load_avg_start": load_start, "load_avg_end": load_average(),
                        "load1_mean": round(sum(loads) / len(loads), 2) if loads else None,
                        "load1_max": max(loads) if loads else None},
            "duration_s": {"send": round(self.send_seconds, 1), "drain": round(drain_s, 1)},
            "caught_up": self.caught_up,
            "traffic": {"sent": sent, "achieved_rate": round(sent / self.send_seconds, 1)
                        if self.send_seconds else None,
                        "mean_bytes": round(self.bytes_sent / sent) if sent else None,
                        "mix": dict(self.mix.most_common())},
            "delivery": delivery,
            "latency_ms": {"role": summarize(self.latency["role"]),
                           "orders": summarize(self.latency["orders"]),
                           "all": summarize(all_latency),
                           "escalation_lateness": summarize(self.escalations.lateness)},
            "escalations": {"total": len(self.escalations.ids),
                            "by_state_level": dict(self.escalations.by_kind),
                            "by_sla": dict(self.escalations.by_sla),
                            "repeated_ids": self.escalations.duplicates},
            "sla_check": sla,
            "pauses": self.pauses.log,
            "services": services,
            "other_processes": others,
            "redis": redis,
            "intervals": self.intervals,
            **chaos,
        }
