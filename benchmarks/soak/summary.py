"""The human-readable end-of-run summary table."""

from __future__ import annotations

from typing import Any

from benchmarks.soak.chaos.verdict import chaos_lines
from benchmarks.soak.missing_probe import describe_probe


def _process_delta(p0: dict[str, Any], p1: dict[str, Any]) -> dict[str, Any]:
    """Memory at the end and CPU between two process samples."""
    cpu = None
    if p0.get("cpu_s") is not None and p1.get("cpu_s") is not None:
        cpu = p1["cpu_s"] - p0["cpu_s"]
    return {"rss_mb_start": p0.get("rss_mb"), "rss_mb_end": p1.get("rss_mb"),
            "hwm_mb": p1.get("hwm_mb"), "cpu_s": round(cpu, 2) if cpu is not None else None,
            "cores_mean": round(cpu / max(1e-6, p1["at"] - p0["at"]), 3)
            if cpu is not None else None}


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"


def format_summary(report: dict[str, Any]) -> str:
    """The compact human summary of a report."""
    c, m, t, d = report["config"], report["machine"], report["traffic"], report["delivery"]
    caught_up = ("every service caught up (lag 0)" if report["caught_up"]
                 else "NOT caught up at the end of the drain")
    lines = [
        "",
        f"soak {report['run_id']}: {c['rate']:g} ev/s for {c['minutes']:g} min "
        f"(+ {report['duration_s']['drain']:.0f} s drain: {caught_up}), {c['shops']} shops x "
        f"{c['agents_per_shop']} agents, {m['cpus']} CPUs, load avg 1 min "
        f"start {_first(m['load_avg_start'])} / mean {_num2(m['load1_mean'])} / "
        f"max {_num2(m['load1_max'])} / end {_first(m['load_avg_end'])}",
        f"  sent {t['sent']:,} events at {_num2(t['achieved_rate'])} ev/s, ~{t['mean_bytes']} B;"
        " mix " + ", ".join(f"{k} {v / max(1, t['sent']):.0%}" for k, v in t["mix"].items()
                            if v / max(1, t["sent"]) >= 0.01),
        f"  outputs: expected {d['expected_outputs']:,}, delivered {d['delivered_outputs']:,}, "
        f"lost {d['lost_outputs']:,} ({d['lost_events']:,} events), duplicated "
        f"{d['duplicated_outputs']:,}, misrouted {d['misrouted']:,}; DLQ (this run) "
        f"{d['dlq_ours']}; send failures {d['send_failures']}; offsets the reader skipped "
        f"{sum(d.get('read_gaps', {}).values())}"
        + "".join(f"; {g['topic']}:{g['partition']} {g['from']}-{g['to']} "
                  + ("the broker has a record there" if g["broker_has_record"]
                     else f"no record there (next at {g['next_record_at']})")
                  for g in d.get("read_gaps_probed", [])),
        "",
        f"  {'latency, ms':<42}{'n':>9}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}",
    ]
    for label, key in (("produce -> kefu.role.* received", "role"),
                       ("produce -> kefu.orders received", "orders"),
                       ("escalation fired_at - deadline (L2 breach)", "escalation_lateness")):
        s = report["latency_ms"][key]
        lines.append(f"  {label:<42}{s['n']:>9,}" + "".join(
            f"{_num(s[q]):>8}" for q in ("p50", "p95", "p99", "max")))
    e = report["escalations"]
    lines.append(f"  escalations: {e['total']:,} ("
                 + ", ".join(f"{k} {v:,}" for k, v in sorted(e["by_state_level"].items()))
                 + f"); repeated ids {e['repeated_ids']} (same cause, same id: "
                   "consumers drop them)")
    check = report.get("sla_check")
    if check is None:
        lines.append("  SLA check: not done (the policy does not count business time around "
                     "the clock)")
    else:
        lines.append(
            f"  SLA check against the traffic: false warnings/breaches {check['false']}, "
            f"true breaches owed {check['owed_breaches']:,}, missing "
            f"{check['missing_breaches']}, repeated ids {check['repeated_breach_ids']}, "
            f"unexplained {check['unexplained']}; retracted {check['retracted']}, resolved "
            f"{check['resolved']}")
        lines += [f"    missing: {describe_probe(entry)}"
                  for entry in check.get("missing_probed") or ()]
    if "invariants" in report:
        lines += chaos_lines(report)
    for pause in report.get("pauses") or ():
        lines.append(f"  paused {pause['service']} (SIGSTOP) for {pause['seconds']:g} s at "
                     f"{pause['at']:.0f} s")
    lines += ["", f"  {'process':<11}{'lag max':>9}{'lag end':>9}{'VmRSS MB':>10}{'VmHWM MB':>10}"
                  f"{'cores':>7}{'events in':>11}{'CPU us/ev':>11}{'batch ms':>10}"
                  f"{'rec/batch':>10}"]
    for name, s in report["services"].items():
        lines.append(f"  {name:<11}{_num(s['lag_max']):>9}{_num(s['lag_end']):>9}"
                     f"{_num(s['rss_mb_end']):>10}{_num(s['hwm_mb']):>10}"
                     f"{_num2(s['cores_mean']):>7}{_num(s['events_in']):>11}"
                     f"{_num(s['cpu_us_per_event_in']):>11}{_num(s.get('batch_ms_mean')):>10}"
                     f"{_num(s.get('records_per_batch')):>10}")
    for name, s in sorted(report["other_processes"].items()):
        lines.append(f"  {name:<11}{'':>9}{'':>9}{_num(s['rss_mb_end']):>10}"
                     f"{_num(s['hwm_mb']):>10}{_num2(s['cores_mean']):>7}")
    r = report["redis"]
    if r:
        lines += ["", f"  redis used_memory {r['used_memory_start'] / 2**20:.1f} -> "
                      f"{r['used_memory_end'] / 2**20:.1f} MiB "
                      f"({_num(r['bytes_per_event_sent'])} B per event sent); "
                      f"keys {r['keys_start']:,} -> {r['keys_end']:,}"]
        census = (r.get("census") or {}).get("kinds") or {}
        if (r.get("census") or {}).get("open_timers"):
            lines.append(f"    open timers {r['census']['open_timers']:,}: "
                         f"{r['census']['bytes_per_open_timer']:,} B per timer (all timer keys)")
        for kind, s in list(census.items())[:12]:
            lines.append(f"    {kind:<44}{s['keys']:>9,} keys {s['bytes'] / 2**20:8.1f} MiB "
                         f"{s['bytes_per_key']:>7,} B/key")
    return "\n".join(lines)


def _first(values: list[float]) -> str:
    return f"{values[0]:.2f}" if values else "-"


def _num2(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
